#pragma once
// What one batch of a dataset scan adds (or several consecutive batches, merged): per image its prediction, per
// feature layer the pooled vectors, and — filled by whoever records it, from Scan::takeAccepted — per tracker the
// entries that entered a top k. A store writes it in one transaction; replaying the accepted entries of every
// record rebuilds the scan's state (see TopKTracker::Accepted).
#include "data/BatchReader.h"
#include "scan/TopKTracker.h"

#include <torch/types.h>

#include <vector>

namespace convscope {

struct ScanBatch {
    std::int64_t first = 0;               ///< dataset index of the batch's first image
    std::int64_t count = 0;               ///< images covered (used + skipped); the scan is done up to first+count
    std::vector<std::int64_t> indices;    ///< images that went through the model
    std::vector<SkippedImage> skipped;
    std::vector<int> labels;              ///< per used image: dataset label or -1
    std::vector<int> predicted;           ///< per used image: arg-max class or -1 (model without class output)
    std::vector<float> confidence;        ///< per used image: soft-max probability of the predicted class
    /// Per tracker (Scan::trackerIndex): the entries that entered its top k (and stayed) since the last record.
    std::vector<std::vector<TopKTracker::Accepted>> accepted;
    /// Per feature (Scan::features()): indices.size() × dims float32 rows.
    std::vector<torch::Tensor> features;
};

} // namespace convscope
