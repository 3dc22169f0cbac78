#include "explain/PatchReconstructions.h"

#include "common/Error.h"
#include "common/NpyFile.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <atomic>
#include <cmath>

namespace convscope {

PatchReconstructions::PatchReconstructions(TopPatchSheets &sheets, const Reconstructor &reconstructor, Options options)
    : sheets_(sheets), reconstructor_(reconstructor), options_(options)
{
}

std::string PatchReconstructions::cachePath(int slot, std::int64_t unit) const
{
    return sheets_.store().dir() + "/scan-" + std::to_string(sheets_.info().id) + "/recon-" +
           backpropRuleName(options_.rule) + "/" + std::to_string(slot) + "-" + std::to_string(unit) + ".npy";
}

bool PatchReconstructions::cached(int slot, std::int64_t unit) const
{
    return options_.cache && QFileInfo::exists(QString::fromStdString(cachePath(slot, unit)));
}

torch::Tensor PatchReconstructions::raw(int slot, std::int64_t unit)
{
    const auto &rank = sheets_.ranking(slot, TopKTracker::Statistic::SpatialMax);
    if (unit < 0 || unit >= static_cast<std::int64_t>(rank.size()))
        throw UsageError("layer " + sheets_.layer(slot).path + " has no unit " + std::to_string(unit) + " (it has " +
                         std::to_string(rank.size()) + ")");
    const auto &entries = rank[static_cast<size_t>(unit)];
    const std::string path = cachePath(slot, unit);
    if (cached(slot, unit)) {
        try {
            torch::Tensor t = NpyFile::read(path);
            if (t.dim() == 4 && t.size(0) == static_cast<std::int64_t>(entries.size()))
                return t;
        } catch (const Error &) {
            // a damaged cache file is recomputed below
        }
    }
    const LayerInfo &layer = sheets_.layer(slot);
    if (entries.empty())
        return torch::zeros({0, reconstructor_.model().input().channels, 1, 1});
    std::vector<std::int64_t> images;
    std::vector<UnitTarget> targets;
    for (const auto &e : entries) {
        images.push_back(e.image);
        targets.push_back({static_cast<int>(unit), std::max(e.y, 0), std::max(e.x, 0)});
    }
    const auto maps = reconstructor_.units(sheets_.modelInput(images), layer.index, targets, options_.rule);
    std::vector<torch::Tensor> crops;
    for (size_t i = 0; i < maps.size(); ++i) {
        const ReceptiveField::Rect r = layer.field.at(std::max(entries[i].y, 0), std::max(entries[i].x, 0));
        const torch::Tensor &m = maps[i].map;
        const std::int64_t H = m.size(1), W = m.size(2);
        torch::Tensor crop = torch::zeros({m.size(0), r.height(), r.width()});
        const std::int64_t y0 = std::max<std::int64_t>(r.y0, 0), y1 = std::min(r.y1, H);
        const std::int64_t x0 = std::max<std::int64_t>(r.x0, 0), x1 = std::min(r.x1, W);
        if (y1 > y0 && x1 > x0)
            crop.narrow(1, y0 - r.y0, y1 - y0).narrow(2, x0 - r.x0, x1 - x0).copy_(
                m.narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0));
        crops.push_back(crop);
    }
    torch::Tensor result = torch::stack(crops);
    if (options_.cache) {
        QDir().mkpath(QFileInfo(QString::fromStdString(path)).path());
        static std::atomic<unsigned> counter{0}; // unique per writer: two workers may project the same unit
        const std::string tmp = path + "." + std::to_string(QCoreApplication::applicationPid()) + "-" +
                                std::to_string(counter++) + ".part";
        NpyFile::write(tmp, result);
        QFile::remove(QString::fromStdString(path));
        if (!QFile::rename(QString::fromStdString(tmp), QString::fromStdString(path)))
            throw IoError("cannot write the reconstruction cache '" + path + "'");
    }
    return result;
}

std::vector<torch::Tensor> PatchReconstructions::tiles(int slot, std::int64_t unit)
{
    const torch::Tensor r = raw(slot, unit);
    const auto &entries = sheets_.ranking(slot, TopKTracker::Statistic::SpatialMax)[static_cast<size_t>(unit)];
    const LayerInfo &layer = sheets_.layer(slot);
    const InputSpec &in = reconstructor_.model().input();
    std::vector<torch::Tensor> out;
    for (std::int64_t i = 0; i < r.size(0); ++i) {
        const ReceptiveField::Rect rect = layer.field.at(std::max(entries[i].y, 0), std::max(entries[i].x, 0));
        // Render at full image size so the padding checks land where the patch has them.
        torch::Tensor full = torch::zeros({r.size(1), in.height, in.width});
        const std::int64_t y0 = std::max<std::int64_t>(rect.y0, 0), y1 = std::min<std::int64_t>(rect.y1, in.height);
        const std::int64_t x0 = std::max<std::int64_t>(rect.x0, 0), x1 = std::min<std::int64_t>(rect.x1, in.width);
        if (y1 > y0 && x1 > x0)
            full.narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0).copy_(
                r[i].narrow(1, y0 - rect.y0, y1 - y0).narrow(2, x0 - rect.x0, x1 - x0));
        out.push_back(PatchExtractor::cropOf(ReconstructionDisplay::render(full, options_.style), rect));
    }
    return out;
}

TileSet PatchReconstructions::unitSheet(int slot, std::int64_t unit)
{
    const auto recon = tiles(slot, unit);
    const auto &entries = sheets_.ranking(slot, TopKTracker::Statistic::SpatialMax)[static_cast<size_t>(unit)];
    if (entries.empty())
        throw DataError("unit " + std::to_string(unit) + " has no entries");
    TileSet set;
    set.kind = TileValues::Color;
    std::vector<torch::Tensor> values;
    for (size_t i = 0; i < entries.size(); ++i) {
        values.push_back(sheets_.patch(slot, entries[i]));
        set.captions.push_back(sheets_.caption(entries[i], true));
        values.push_back(recon[i]);
        set.captions.push_back(backpropRuleName(options_.rule));
    }
    set.values = torch::stack(values);
    set.columns = 6;
    set.title = sheets_.layer(slot).path + " unit " + std::to_string(unit) + " — top patches | " +
                backpropRuleLabel(options_.rule);
    return set;
}

std::vector<std::int64_t> PatchReconstructions::allUnits(int slot, const std::vector<std::int64_t> &units)
{
    if (!units.empty())
        return units;
    std::vector<std::int64_t> all;
    const auto n = static_cast<std::int64_t>(sheets_.ranking(slot, TopKTracker::Statistic::SpatialMax).size());
    for (std::int64_t c = 0; c < n; ++c)
        all.push_back(c);
    return all;
}

void PatchReconstructions::precompute(int slot, const std::vector<std::int64_t> &units, Progress *progress)
{
    const auto which = allUnits(slot, units);
    for (size_t i = 0; i < which.size(); ++i) {
        if (progress && progress->cancelled())
            throw CancelledError();
        raw(slot, which[i]);
        if (progress)
            progress->report(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(which.size()),
                             "projecting units");
    }
}

TileSet PatchReconstructions::poster(int slot, const std::vector<std::int64_t> &units, Progress *progress,
                                     int maxPatchSide)
{
    const auto which = allUnits(slot, units);
    precompute(slot, which, progress);
    const int k = sheets_.info().k;
    const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(k))));
    TileSet patches = sheets_.poster(slot, which, maxPatchSide);
    std::vector<torch::Tensor> tilesOut;
    for (size_t i = 0; i < which.size(); ++i) {
        std::vector<torch::Tensor> projected = tiles(slot, which[i]);
        for (torch::Tensor &t : projected)
            t = PatchExtractor::shrink(t, maxPatchSide);
        torch::Tensor left = PatchExtractor::mosaic(projected, columns, k);
        torch::Tensor right = patches.values[static_cast<std::int64_t>(i)];
        const std::int64_t h = std::max(left.size(1), right.size(1));
        torch::Tensor both = torch::full({3, h, left.size(2) + 3 + right.size(2)}, 0.06f);
        both.narrow(1, 0, left.size(1)).narrow(2, 0, left.size(2)).copy_(left);
        both.narrow(1, 0, right.size(1)).narrow(2, left.size(2) + 3, right.size(2)).copy_(right);
        tilesOut.push_back(both);
    }
    patches.values = PatchExtractor::stackPadded(tilesOut);
    patches.title = sheets_.layer(slot).path + " — " + backpropRuleLabel(options_.rule) + " | top " +
                    std::to_string(k) + " patches per unit";
    return patches;
}

} // namespace convscope
