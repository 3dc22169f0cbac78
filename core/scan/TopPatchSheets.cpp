#include "scan/TopPatchSheets.h"

#include "common/Error.h"
#include "data/Preprocessor.h"

#include <cmath>
#include <cstdio>

namespace convscope {

TopPatchSheets::TopPatchSheets(std::shared_ptr<const Model> model, const ImageSource &source,
                               const ProjectStore &store, std::int64_t scanId)
    : model_(std::move(model)), source_(source), store_(store), info_(store.scan(scanId)),
      extractor_(source, Preprocessor(model_->input()))
{
    if (!info_.complete)
        throw DataError("scan " + std::to_string(scanId) + " is not finished (" + std::to_string(info_.done) + " of " +
                        std::to_string(info_.total) + " images); run `convscope scan` again to complete it");
}

int TopPatchSheets::layerSlot(const std::string &name) const
{
    std::string path = name;
    try {
        path = model_->layer(name).path;
    } catch (const UsageError &) {
    }
    for (size_t i = 0; i < info_.layers.size(); ++i)
        if (info_.layers[i] == path)
            return static_cast<int>(i);
    std::string list;
    for (const auto &l : info_.layers)
        list += (list.empty() ? "" : ", ") + l;
    throw UsageError("layer '" + name + "' was not scanned; scanned layers: " + list);
}

const LayerInfo &TopPatchSheets::layer(int slot) const
{
    return model_->layer(info_.layers.at(static_cast<size_t>(slot)));
}

const std::vector<std::vector<TopKTracker::Entry>> &TopPatchSheets::ranking(int slot, TopKTracker::Statistic statistic)
{
    const std::pair<int, int> key{slot, statistic == TopKTracker::Statistic::SpatialMean ? 1 : 0};
    auto it = rankings_.find(key);
    if (it == rankings_.end())
        it = rankings_.emplace(key, store_.topOfLayer(info_.id, slot, statistic)).first;
    return it->second;
}

torch::Tensor TopPatchSheets::patch(int slot, const TopKTracker::Entry &e)
{
    const ReceptiveField &field = layer(slot).field;
    return extractor_.crop(e.image, field.at(std::max(e.y, 0), std::max(e.x, 0)));
}

std::string TopPatchSheets::caption(const TopKTracker::Entry &e, bool position) const
{
    char value[32];
    std::snprintf(value, sizeof value, "%.3g", e.value);
    // Value first, then the class, then a short name: captions are narrow.
    std::string text = value;
    const int l = source_.label(e.image);
    if (l >= 0)
        text += " · " + model_->label(l);
    std::string name = source_.name(e.image);
    if (auto hash = name.rfind('#'); hash != std::string::npos)
        name = name.substr(hash); // "t10k-images-idx3-ubyte.gz#9604" -> "#9604"
    else if (auto slash = name.rfind('/'); slash != std::string::npos)
        name = name.substr(slash + 1);
    text += " · " + name;
    if (position)
        text += " @" + std::to_string(e.y) + "," + std::to_string(e.x);
    return text;
}

TileSet TopPatchSheets::poster(int slot, const std::vector<std::int64_t> &units, int maxPatchSide, Progress *progress)
{
    const auto &rank = ranking(slot, TopKTracker::Statistic::SpatialMax);
    std::vector<std::int64_t> which = units;
    if (which.empty())
        for (std::int64_t c = 0; c < static_cast<std::int64_t>(rank.size()); ++c)
            which.push_back(c);
    const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(info_.k))));
    std::vector<torch::Tensor> tiles;
    TileSet set;
    set.kind = TileValues::Color;
    for (std::int64_t c : which) {
        if (c < 0 || c >= static_cast<std::int64_t>(rank.size()))
            throw UsageError("layer " + info_.layers[static_cast<size_t>(slot)] + " has no unit " + std::to_string(c) +
                             " (it has " + std::to_string(rank.size()) + ")");
        if (progress && progress->cancelled())
            throw CancelledError();
        std::vector<torch::Tensor> patches;
        for (const auto &e : rank[static_cast<size_t>(c)])
            patches.push_back(PatchExtractor::shrink(patch(slot, e), maxPatchSide));
        tiles.push_back(PatchExtractor::mosaic(patches, columns, info_.k));
        if (progress)
            progress->report(static_cast<std::int64_t>(tiles.size()), static_cast<std::int64_t>(which.size()),
                             "cropping patches");
        char value[32];
        std::snprintf(value, sizeof value, "%.3g", rank[static_cast<size_t>(c)].empty() ? 0.0
                                                                                       : rank[static_cast<size_t>(c)][0].value);
        set.captions.push_back(std::to_string(c) + " · " + value);
    }
    set.values = PatchExtractor::stackPadded(tiles); // mosaics share a size, except an empty unit's
    set.title = layer(slot).path + " — top " + std::to_string(info_.k) + " patches per unit (" +
                layer(slot).field.describe() + ")";
    return set;
}

TileSet TopPatchSheets::unitTiles(int slot, std::int64_t unit, bool patches)
{
    const auto &rank = ranking(slot, patches ? TopKTracker::Statistic::SpatialMax : TopKTracker::Statistic::SpatialMean);
    if (unit < 0 || unit >= static_cast<std::int64_t>(rank.size()))
        throw UsageError("layer " + info_.layers[static_cast<size_t>(slot)] + " has no unit " + std::to_string(unit) +
                         " (it has " + std::to_string(rank.size()) + ")");
    TileSet set;
    set.kind = TileValues::Color;
    std::vector<torch::Tensor> tiles;
    for (const auto &e : rank[static_cast<size_t>(unit)]) {
        tiles.push_back(patches ? patch(slot, e) : extractor_.whole(e.image));
        set.captions.push_back(caption(e, patches));
    }
    if (tiles.empty())
        throw DataError("unit " + std::to_string(unit) + " has no entries");
    set.values = torch::stack(tiles);
    set.columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(tiles.size()))));
    return set;
}

TileSet TopPatchSheets::unitPatches(int slot, std::int64_t unit)
{
    TileSet set = unitTiles(slot, unit, true);
    set.title = layer(slot).path + " unit " + std::to_string(unit) + " — top patches";
    return set;
}

std::vector<TopPatchSheets::UnitSummary> TopPatchSheets::summaries(int slot)
{
    const auto &rank = ranking(slot, TopKTracker::Statistic::SpatialMax);
    std::vector<UnitSummary> out;
    for (size_t c = 0; c < rank.size(); ++c) {
        UnitSummary u;
        u.unit = static_cast<std::int64_t>(c);
        u.strongest = rank[c].empty() ? 0.0f : rank[c][0].value;
        u.dead = rank[c].empty() || u.strongest <= 0.0f;
        std::map<int, int> counts;
        for (const auto &e : rank[c])
            if (int l = source_.label(e.image); l >= 0)
                ++counts[l];
        for (const auto &[label, n] : counts)
            if (u.dominantLabel < 0 || n > counts[u.dominantLabel])
                u.dominantLabel = label;
        if (u.dominantLabel >= 0 && !rank[c].empty())
            u.selectivity = static_cast<float>(counts[u.dominantLabel]) / static_cast<float>(rank[c].size());
        out.push_back(u);
    }
    return out;
}

torch::Tensor TopPatchSheets::modelInput(const std::vector<std::int64_t> &images)
{
    const InputSpec &in = model_->input();
    std::vector<torch::Tensor> rows;
    for (std::int64_t i : images)
        rows.push_back(extractor_.whole(i).narrow(0, 0, in.channels));
    torch::Tensor x = Preprocessor(in).inModelOrder(torch::stack(rows));
    for (int c = 0; c < in.channels; ++c)
        x.select(1, c).mul_(in.range).sub_(in.mean[static_cast<size_t>(c)]).div_(in.std[static_cast<size_t>(c)]);
    return x;
}

TileSet TopPatchSheets::unitImages(int slot, std::int64_t unit, bool response)
{
    TileSet set = unitTiles(slot, unit, false);
    if (response) {
        // The model input for these images, then the unit's map for each, on one colour scale.
        std::vector<std::int64_t> images;
        for (const auto &e : ranking(slot, TopKTracker::Statistic::SpatialMean)[static_cast<size_t>(unit)])
            images.push_back(e.image);
        const torch::Tensor x = modelInput(images);
        const LayerInfo &l = layer(slot);
        torch::Tensor maps = model_->probe().run(x, {l.index}).captured.at(0);
        if (maps.dim() == 4) {
            maps = maps.select(1, unit).unsqueeze(1).to(torch::kFloat32);
            maps = torch::upsample_bilinear2d(maps, {set.values.size(2), set.values.size(3)}, false);
            const float top = std::max(maps.max().item<float>(), 1e-12f);
            torch::Tensor m = (maps / top).clamp(0, 1); // N×1×H×W
            torch::Tensor heat = torch::cat({(m * 2).clamp(0, 1), (m * 2 - 1).clamp(0, 1), torch::zeros_like(m)}, 1);
            torch::Tensor alpha = 0.65f * m.sqrt();
            set.values = set.values * (1 - alpha) * 0.8f + heat * alpha;
        }
    }
    set.title = layer(slot).path + " unit " + std::to_string(unit) + " — max-response images (by mean)" +
                (response ? ", response overlaid" : "");
    return set;
}

} // namespace convscope
