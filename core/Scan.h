#pragma once
// One batched pass of a model over a dataset that keeps, for every selected layer and channel, the top-k responses
// from distinct images (by spatial maximum, with position: the top-9 patches; and by spatial mean: max-response
// images), plus each image's prediction. Memory: layers × channels × k plus one batch, whatever the dataset size.
// Decoding the next batch overlaps the forward pass of the current one. Chunked: init in the constructor, then
// run(batches) until it returns false, so callers can show progress and cancel.
//
// Not yet here (see the dataset-scan issue): the project store (SQLite + .npy), resume after a kill, pooled
// feature vectors, receptive-field crops.
#include "BatchPrefetcher.h"
#include "Model.h"
#include "TopKTracker.h"

#include <memory>

namespace convscope {

class Scan {
public:
    struct Options {
        std::vector<std::string> layers; ///< layer names (as Model::layer takes); empty = every conv layer and
                                         ///< every block whose output is a 4-D map
        int k = 9;                       ///< entries per channel; larger costs memory layers × channels × k
        int batchSize = 64;              ///< images per forward pass
        std::int64_t limit = -1;         ///< scan only the first `limit` images (-1 = all)
    };

    struct LayerResult {
        int layer;                ///< index into Model::layers()
        TopKTracker byMax;        ///< top-k patches: spatial maximum and its position
        TopKTracker byMean;       ///< max-response images by the map's mean
    };

    /// Throws UsageError for an unknown or uncapturable layer, DataError for an empty dataset.
    Scan(std::shared_ptr<const Model> model, const ImageSource &source, Options options);
    ~Scan();

    /// Advances by at most `batches` batches; true while images remain.
    bool run(int batches = 1);
    std::int64_t done() const { return prefetcher_->delivered(); }
    std::int64_t total() const { return total_; }
    const std::vector<LayerResult> &layers() const { return results_; }
    const std::vector<SkippedImage> &skipped() const { return skipped_; }
    /// Predicted class per scanned image (-1 for skipped images or models without class output).
    const std::vector<int> &predictions() const { return predictions_; }

    /// The default layer selection for a model (conv layers and 4-D block outputs, capturable).
    static std::vector<int> defaultLayers(const Model &model);

private:
    std::shared_ptr<const Model> model_;
    const ImageSource &source_;
    Options options_;
    BatchReader reader_;
    std::vector<LayerResult> results_;
    std::vector<int> which_;
    std::int64_t total_ = 0;
    std::unique_ptr<BatchPrefetcher> prefetcher_;
    std::vector<SkippedImage> skipped_;
    std::vector<int> predictions_;
};

} // namespace convscope
