#pragma once
// How a network's features evolve while it trains (Zeiler & Fergus 2014, Fig. 4): every checkpoint of a series is
// scanned against the same dataset (each scan stored in the dataset's project and reused like any other), then
//   - stability per layer: for each unit, the share of its top-k images (by maximum, distinct images) that a
//     checkpoint shares with the next one, averaged over the layer's units ("consecutive"), and with the last
//     checkpoint ("toFinal") — lower layers settle first, so their curves reach 1 earlier;
//   - the figure: one row per unit, one column per checkpoint, each cell the unit's top-k mosaic (or its strongest
//     patch) at that checkpoint.
// A unit that responds to fewer than k images fills its top-k with ties at its floor (0 after a ReLU), broken by
// image number — the same images at every checkpoint, which would pass for stability. So when the k-th value is 0
// or shared, the entries at that value are left out; the share is relative to the larger of the two sets, and a
// unit left with no images at either checkpoint is left out of that pair's mean (`compared` says how many were used).
//
// Usage: FeatureEvolution e(series, dataset, options); while (!e.run(progress)) {}; e.stability(); e.figure(...);
// A step is a few batches of one checkpoint's scan; stopping keeps every finished batch (scans resume).
#include "evolution/CheckpointSeries.h"
#include "scan/Scan.h"
#include "tiles/TileSet.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace convscope {

class ImageSource;
class Model;
class Progress;
class StoredScan;

class FeatureEvolution {
public:
    struct Options {
        Scan::Options scan;    ///< layers (empty: each model's default set), k, limit — the same for every checkpoint
        std::string project;   ///< project folder; empty = the dataset's default project (StoredScan)
        std::string sidecar;   ///< sidecar for every checkpoint; empty = each file's own (or the first one's)
        int batchesPerStep = 4;
    };

    struct LayerStability {
        std::string layer;                 ///< layer path
        std::vector<double> consecutive;   ///< size T−1: checkpoint t against t+1 (NaN when no unit compares)
        std::vector<double> toFinal;       ///< size T: checkpoint t against the last (the last is 1)
        std::vector<int> compared;         ///< size T−1: units in each consecutive mean
    };

    /// Opens the dataset; checkpoints are loaded and scanned by run(). Throws IoError/DataError for the dataset.
    FeatureEvolution(CheckpointSeries series, const std::string &datasetPath, Options options);
    ~FeatureEvolution();

    /// Runs the next step; true when every checkpoint is scanned and the stability computed. Throws DataError when a
    /// checkpoint's layers differ from the first's, CancelledError when `progress` asks, what scans throw.
    bool run(Progress *progress = nullptr);
    /// 0..1 over every checkpoint's images.
    double fraction() const;

    const CheckpointSeries &series() const { return series_; }
    /// Per scanned layer, in scan order (after run() returned true).
    const std::vector<LayerStability> &stability() const { return stability_; }
    /// The stored scan of each checkpoint (after run() returned true).
    const std::vector<std::int64_t> &scanIds() const { return scanIds_; }
    const std::string &project() const { return project_; }
    /// The first checkpoint's model: the layer table, receptive fields and input every checkpoint shares (the
    /// others are loaded only while they are scanned). Figures crop every checkpoint's patches with its input spec,
    /// so a later checkpoint with a sidecar of its own (other preprocessing) is cropped as the first. Null before
    /// run().
    std::shared_ptr<const Model> layout() const { return layout_; }
    const ImageSource &source() const { return *source_; }

    /// The figure for `layer` (path or friendly name): rows = `units`, columns = checkpoints; each cell the unit's
    /// top-k mosaic (`mosaic`) or its strongest patch, captioned with the checkpoint (the first column "unit U · …"). Patches are shrunk to
    /// `maxPatchSide` pixels when > 0. Throws UsageError for a layer that was not scanned or a unit out of range.
    TileSet figure(const std::string &layer, const std::vector<std::int64_t> &units, bool mosaic = true,
                   int maxPatchSide = 0, Progress *progress = nullptr) const;
    /// The `n` units of `layer` with the strongest response at the last checkpoint, in unit order.
    std::vector<std::int64_t> strongestUnits(const std::string &layer, int n) const;

private:
    void startScan(size_t checkpoint);
    void computeStability();

    CheckpointSeries series_;
    std::string datasetPath_;
    Options options_;
    std::shared_ptr<const ImageSource> source_;
    std::shared_ptr<const Model> layout_;
    std::vector<std::int64_t> scanIds_;
    std::unique_ptr<StoredScan> scan_;
    size_t current_ = 0;
    std::string project_;
    std::vector<LayerStability> stability_;
    std::vector<std::string> layers_;
    std::int64_t perCheckpoint_ = 0;
    bool done_ = false;
};

} // namespace convscope
