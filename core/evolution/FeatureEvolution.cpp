#include "evolution/FeatureEvolution.h"

#include "common/Error.h"
#include "common/Progress.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "model/ModelSidecar.h"
#include "scan/StoredScan.h"
#include "scan/TopPatchSheets.h"

#include <QDir>

#include <torch/torch.h>

#include <algorithm>
#include <set>

namespace convscope {

namespace {

/// The images a unit's top k ranks for a reason: a unit that responds to fewer than k images fills its list with
/// a tie at its floor (0 after a ReLU, 6 for a saturated ReLU6), broken by image number — the same low-numbered
/// images at every checkpoint, which must not pass for stability. When the k-th value is 0 or shared, the entries
/// at that value are left out.
std::set<std::int64_t> ranked(const std::vector<TopKTracker::Entry> &ranking)
{
    std::set<std::int64_t> images;
    if (ranking.empty())
        return images;
    const float last = ranking.back().value;
    const auto ties = std::count_if(ranking.begin(), ranking.end(), [&](const auto &e) { return e.value == last; });
    const bool floor = last == 0 || ties > 1;
    for (const auto &e : ranking)
        if (!floor || e.value > last)
            images.insert(e.image);
    return images;
}

/// Share of the images in both sets, relative to the larger one.
double overlap(const std::set<std::int64_t> &a, const std::set<std::int64_t> &b)
{
    size_t common = 0;
    for (auto i : a)
        common += b.count(i);
    return static_cast<double>(common) / static_cast<double>(std::max(a.size(), b.size()));
}

} // namespace

FeatureEvolution::FeatureEvolution(CheckpointSeries series, const std::string &datasetPath, Options options)
    : series_(std::move(series)), datasetPath_(QDir(QString::fromStdString(datasetPath)).absolutePath().toStdString()),
      options_(std::move(options))
{
    if (series_.size() < 2)
        throw UsageError("feature evolution needs at least 2 checkpoints of one model");
    source_ = ImageSource::open(datasetPath_);
    perCheckpoint_ = source_->size();
    if (options_.scan.limit >= 0)
        perCheckpoint_ = std::min(perCheckpoint_, options_.scan.limit);
    project_ = options_.project.empty() ? StoredScan::defaultProjectDir(datasetPath_) : options_.project;
    options_.batchesPerStep = std::max(1, options_.batchesPerStep);
}

FeatureEvolution::~FeatureEvolution() = default;

void FeatureEvolution::startScan(size_t i)
{
    const auto &c = series_.checkpoints()[i];
    Model::Options mo;
    mo.sidecar = options_.sidecar;
    // A checkpoint without a sidecar of its own is fed like the first one.
    if (mo.sidecar.empty() && i > 0 && ModelSidecar::findFor(c.path).empty())
        mo.sidecar = layout_->sidecar().path;
    auto model = Model::load(c.path, mo);
    if (i == 0)
        layout_ = model; // only the first stays loaded: the others' scans are in the project
    else
        CheckpointSeries::checkSameLayers(*layout_, *model, c.label);
    StoredScan::Options so;
    so.scan = options_.scan;
    so.project = project_;
    scan_ = std::make_unique<StoredScan>(model, source_, datasetPath_, so);
}

bool FeatureEvolution::run(Progress *progress)
{
    if (done_)
        return true;
    if (progress && progress->cancelled())
        throw CancelledError();
    if (!scan_)
        startScan(current_);
    const bool more = scan_->run(options_.batchesPerStep);
    if (progress)
        progress->report(static_cast<std::int64_t>(current_) * perCheckpoint_ + scan_->done(),
                         static_cast<std::int64_t>(series_.size()) * perCheckpoint_,
                         "scanning " + series_.checkpoints()[current_].label);
    if (more)
        return false;
    const auto info = scan_->info();
    scanIds_.push_back(scan_->id());
    if (current_ == 0)
        layers_ = info.layers;
    else if (info.layers != layers_)
        throw DataError("checkpoint '" + series_.checkpoints()[current_].label +
                        "' was scanned with other layers than the first");
    scan_.reset();
    if (++current_ < series_.size())
        return false;
    computeStability();
    done_ = true;
    return true;
}

double FeatureEvolution::fraction() const
{
    if (done_)
        return 1;
    const double total = static_cast<double>(series_.size()) * static_cast<double>(std::max<std::int64_t>(1, perCheckpoint_));
    const double now = static_cast<double>(current_) * static_cast<double>(perCheckpoint_) +
                       (scan_ ? static_cast<double>(scan_->done()) : 0.0);
    return std::min(1.0, now / total);
}

void FeatureEvolution::computeStability()
{
    const size_t t = series_.size();
    const ProjectStore store(project_);
    stability_.clear();
    for (size_t slot = 0; slot < layers_.size(); ++slot) { // one layer's rankings at a time
        std::vector<std::vector<std::set<std::int64_t>>> images(t); // [checkpoint][unit]: ranked top images
        for (size_t i = 0; i < t; ++i)
            for (const auto &ranking : store.topOfLayer(scanIds_[i], static_cast<int>(slot),
                                                        TopKTracker::Statistic::SpatialMax))
                images[i].push_back(ranked(ranking));
        LayerStability s;
        s.layer = layers_[slot];
        const size_t units = images.front().size();
        auto mean = [&](size_t a, size_t b, int &compared) {
            double sum = 0;
            compared = 0;
            for (size_t u = 0; u < units && u < images[b].size(); ++u) {
                if (images[a][u].empty() || images[b][u].empty()) // all ties at either checkpoint: nothing to compare
                    continue;
                sum += overlap(images[a][u], images[b][u]);
                ++compared;
            }
            return compared > 0 ? sum / compared : NAN;
        };
        for (size_t i = 0; i + 1 < t; ++i) {
            int compared = 0;
            s.consecutive.push_back(mean(i, i + 1, compared));
            s.compared.push_back(compared);
        }
        for (size_t i = 0; i < t; ++i) {
            int compared = 0;
            s.toFinal.push_back(mean(i, t - 1, compared));
        }
        stability_.push_back(std::move(s));
    }
}

std::vector<std::int64_t> FeatureEvolution::strongestUnits(const std::string &layer, int n) const
{
    if (!done_)
        throw UsageError("the checkpoints are not scanned yet");
    ProjectStore store(project_);
    TopPatchSheets last(layout_, *source_, store, scanIds_.back());
    const int slot = last.layerSlot(layer);
    auto summaries = last.summaries(slot);
    std::stable_sort(summaries.begin(), summaries.end(),
                     [](const auto &a, const auto &b) { return a.strongest > b.strongest; });
    std::vector<std::int64_t> units;
    for (const auto &s : summaries) {
        if (static_cast<int>(units.size()) >= n)
            break;
        units.push_back(s.unit);
    }
    std::sort(units.begin(), units.end());
    return units;
}

TileSet FeatureEvolution::figure(const std::string &layer, const std::vector<std::int64_t> &units, bool mosaic,
                                 int maxPatchSide, Progress *progress) const
{
    if (!done_)
        throw UsageError("the checkpoints are not scanned yet");
    if (units.empty())
        throw UsageError("no units chosen for the evolution figure");
    ProjectStore store(project_);
    const size_t t = series_.size();
    std::vector<torch::Tensor> columns; // per checkpoint: units×C×h×w
    std::string path;
    for (size_t i = 0; i < t; ++i) {
        if (progress && progress->cancelled())
            throw CancelledError();
        TopPatchSheets sheets(layout_, *source_, store, scanIds_[i]);
        const int slot = sheets.layerSlot(layer);
        path = sheets.layer(slot).path;
        const auto channels = static_cast<std::int64_t>(sheets.ranking(slot, TopKTracker::Statistic::SpatialMax).size());
        for (auto u : units)
            if (u < 0 || u >= channels)
                throw UsageError("layer '" + path + "' has " + std::to_string(channels) + " units; there is no unit " +
                                 std::to_string(u));
        if (mosaic) {
            columns.push_back(sheets.poster(slot, units, maxPatchSide).values);
        } else {
            std::vector<torch::Tensor> best;
            for (auto u : units)
                best.push_back(sheets.unitPatches(slot, u).values[0]);
            columns.push_back(torch::stack(best));
        }
        if (progress)
            progress->report(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(t), "drawing");
    }
    // Same architecture, same receptive fields: every column has the same tile size, unless shrinking differed.
    const auto h = columns.front().size(2), w = columns.front().size(3);
    TileSet set;
    set.kind = TileValues::Color;
    std::vector<torch::Tensor> tiles;
    for (size_t r = 0; r < units.size(); ++r)
        for (size_t i = 0; i < t; ++i) {
            torch::Tensor tile = columns[i][static_cast<std::int64_t>(r)];
            if (tile.size(1) != h || tile.size(2) != w)
                tile = torch::nn::functional::interpolate(
                           tile.unsqueeze(0), torch::nn::functional::InterpolateFuncOptions()
                                                  .size(std::vector<std::int64_t>{h, w})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false))
                           .squeeze(0);
            if (tile.size(0) == 1)
                tile = tile.repeat({3, 1, 1});
            tiles.push_back(tile);
            // The unit's number once per row (first column), the checkpoint under every cell.
            set.captions.push_back(i == 0 ? "unit " + std::to_string(units[r]) + " · " + series_.checkpoints()[i].label
                                          : series_.checkpoints()[i].label);
        }
    set.values = torch::stack(tiles);
    set.columns = static_cast<int>(t);
    set.title = path + " — " + (mosaic ? "top patches" : "strongest patch") + " of " + std::to_string(units.size()) +
                " units at " + std::to_string(t) + " checkpoints";
    return set;
}

} // namespace convscope
