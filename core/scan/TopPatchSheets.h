#pragma once
// Builds the classic figures from a stored scan as tile sets (drawn by TileGridRenderer, shown by the layer view):
// a layer's units, each as a mosaic of its top-k patches cropped at the receptive field; one unit's patches large
// with captions; one unit's max-response images (by the map's mean) whole.
#include "common/Progress.h"
#include "model/Model.h"
#include "scan/PatchExtractor.h"
#include "scan/ProjectStore.h"
#include "tiles/TileSet.h"

#include <memory>

namespace convscope {

class TopPatchSheets {
public:
    /// `source` must be the scan's dataset. Throws DataError when the scan is not complete.
    TopPatchSheets(std::shared_ptr<const Model> model, const ImageSource &source, const ProjectStore &store,
                   std::int64_t scanId);

    const ProjectStore::ScanInfo &info() const { return info_; }
    /// Position of a layer in the scan (path, friendly name or model index as Model::layer takes). Throws
    /// UsageError naming the scanned layers.
    int layerSlot(const std::string &name) const;
    const LayerInfo &layer(int slot) const;
    /// The stored ranking of every unit of a layer.
    const std::vector<std::vector<TopKTracker::Entry>> &ranking(int slot, TopKTracker::Statistic statistic);

    /// One tile per unit (`units` empty = all): the unit's top-k patches as a square mosaic; caption "c · max".
    /// `maxPatchSide` > 0 shrinks each patch as it is cropped (PatchExtractor::shrink): memory then grows with the
    /// shown size, not with the receptive field (2048 units × 9 crops of 427 px would take tens of GB). Reports a
    /// step per unit to `progress` and stops with CancelledError when it says so.
    TileSet poster(int slot, const std::vector<std::int64_t> &units = {}, int maxPatchSide = 0,
                   Progress *progress = nullptr);
    /// One unit: its k patches (by maximum) as tiles, captioned with image name, label, value and position.
    TileSet unitPatches(int slot, std::int64_t unit);
    /// One unit: its k max-response images (by the map's mean), whole, captioned. With `response`, the unit's
    /// activation map (upsampled, one colour scale for all k) is laid over each image in a black-red-yellow ramp.
    TileSet unitImages(int slot, std::int64_t unit, bool response = false);

    /// Per unit, what the layer view sorts and filters by.
    struct UnitSummary {
        std::int64_t unit = 0;
        float strongest = 0;      ///< its largest activation over the dataset
        bool dead = false;        ///< never above zero
        int dominantLabel = -1;   ///< most frequent label among its top-k images (by max), -1 if unlabelled
        float selectivity = 0;    ///< share of those images with the dominant label (1 = all one class)
    };
    std::vector<UnitSummary> summaries(int slot);

    /// The model's input (normalised, N×C×H×W) for dataset images.
    torch::Tensor modelInput(const std::vector<std::int64_t> &images);
    /// Shared pieces of the figures, for sheets built elsewhere (PatchReconstructions).
    std::string caption(const TopKTracker::Entry &e, bool position) const;
    const Model &model() const { return *model_; }
    const ProjectStore &store() const { return store_; }

    /// The unit's patch for one ranked entry.
    torch::Tensor patch(int slot, const TopKTracker::Entry &entry);
    PatchExtractor &extractor() { return extractor_; }

private:
    /// A unit's k tiles: patches by maximum, or whole images by mean; captioned.
    TileSet unitTiles(int slot, std::int64_t unit, bool patches);

    std::shared_ptr<const Model> model_;
    const ImageSource &source_;
    const ProjectStore &store_;
    ProjectStore::ScanInfo info_;
    PatchExtractor extractor_;
    std::map<std::pair<int, int>, std::vector<std::vector<TopKTracker::Entry>>> rankings_;
};

} // namespace convscope
