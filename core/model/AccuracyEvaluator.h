#pragma once
// Accuracy of a classifier on a labelled dataset, computed in chunks so callers can show progress and cancel.
// Decoding of the next batch overlaps the forward pass of the current one.
//
//   AccuracyEvaluator ev(model, source, {});
//   while (ev.run(1)) progress(ev.done(), ev.total());
//   ev.result().top1();
#include "data/BatchPrefetcher.h"
#include "model/Model.h"

#include <memory>

namespace convscope {

class AccuracyEvaluator {
public:
    struct Options {
        int batchSize = 100;          ///< images per forward pass; larger is faster up to cache limits
        int topK = 5;                 ///< also count a hit when the label is among the k best classes
        std::int64_t limit = -1;      ///< evaluate only the first `limit` images (-1 = all)
    };

    struct Result {
        std::int64_t evaluated = 0;   ///< images that went through the model
        std::int64_t labelled = 0;    ///< of those, images with a label
        std::int64_t correctTop1 = 0;
        std::int64_t correctTopK = 0;
        std::vector<SkippedImage> skipped;
        torch::Tensor confusion;      ///< classes×classes counts, rows = true label, columns = prediction
        double top1() const { return labelled ? double(correctTop1) / labelled : 0.0; }
        double topK() const { return labelled ? double(correctTopK) / labelled : 0.0; }
    };

    /// Throws UnsupportedModelError when the model has no class output, DataError when the source is empty.
    AccuracyEvaluator(std::shared_ptr<const Model> model, const ImageSource &source, Options options);
    ~AccuracyEvaluator();

    /// Advances by at most `batches` batches. Returns true while work remains.
    bool run(int batches = 1);
    std::int64_t done() const { return prefetcher_->delivered(); }
    std::int64_t total() const { return total_; }
    const Result &result() const { return result_; }

private:
    std::shared_ptr<const Model> model_;
    const ImageSource &source_;
    Options options_;
    BatchReader reader_;
    std::int64_t total_ = 0;
    std::unique_ptr<BatchPrefetcher> prefetcher_;
    Result result_;
};

} // namespace convscope
