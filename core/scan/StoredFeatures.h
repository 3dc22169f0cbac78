#pragma once
// The per-image features of one layer that a project's scans kept — what the similar-image search and the dataset
// map both start from. Found in the newest complete scan of the project's newest model and dataset that kept them;
// when none did, a features-only scan of that dataset is run (resumable, stored like any scan) to make them.
#include "common/Progress.h"
#include "model/Model.h"
#include "scan/FeaturePooling.h"
#include "scan/ProjectStore.h"

#include <optional>
#include <string>
#include <vector>

namespace convscope {

class StoredFeatures {
public:
    ProjectStore::ScanInfo scan; ///< the scan that holds them (its dataset, model and id)
    std::string file;            ///< the .npy matrix: a float32 row per dataset image, NaN for skipped images
    std::string layer;           ///< the layer's path
    FeaturePooling pooling = FeaturePooling::None;

    /// Looks up (or computes, reporting to `progress` and stopping with CancelledError when it says so) the
    /// features of `layer` pooled as `pooling` (unset: defaultPooling of the layer). Throws DataError (no complete scan), IoError (the scanned model is
    /// gone), UsageError (unknown layer, pooling that does not fit it).
    static StoredFeatures find(const std::string &project, const std::string &layer,
                               std::optional<FeaturePooling> pooling,
                               Progress *progress = nullptr);
    /// Every feature that the complete scans of `newest`'s model and dataset kept, one per (layer, pooling), the
    /// newest scan's file first found — what "which layer describes / classifies best" compare. `layers` (paths or
    /// display names of `model`'s layers; empty = all) filters them. Nothing is computed.
    static std::vector<StoredFeatures> kept(const ProjectStore &store, const ProjectStore::ScanInfo &newest,
                                            const Model &model, const std::vector<std::string> &layers = {});
};

} // namespace convscope
