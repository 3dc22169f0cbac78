#include "model/AccuracyEvaluator.h"

#include "common/Error.h"

namespace convscope {

AccuracyEvaluator::AccuracyEvaluator(std::shared_ptr<const Model> model, const ImageSource &source, Options options)
    : model_(std::move(model)), source_(source), options_(options),
      reader_(source, Preprocessor(model_->input()))
{
    if (model_->numClasses() <= 0)
        throw UnsupportedModelError("the model does not output class scores; nothing to evaluate");
    total_ = options_.limit >= 0 ? std::min(options_.limit, source.size()) : source.size();
    if (total_ == 0)
        throw DataError("the dataset holds no images");
    options_.batchSize = std::max(1, options_.batchSize);
    result_.confusion = torch::zeros({model_->numClasses(), model_->numClasses()}, torch::kInt64);
    prefetcher_ = std::make_unique<BatchPrefetcher>(reader_, total_, options_.batchSize);
}

AccuracyEvaluator::~AccuracyEvaluator() = default;

bool AccuracyEvaluator::run(int batches)
{
    for (int b = 0; b < batches; ++b) {
        std::optional<Batch> next = prefetcher_->next();
        if (!next)
            break;
        Batch &batch = *next;
        result_.skipped.insert(result_.skipped.end(), batch.skipped.begin(), batch.skipped.end());
        if (!batch.input.defined())
            continue;
        torch::Tensor logits = model_->forward(batch.input);
        torch::Tensor top = std::get<1>(logits.topk(std::min<int64_t>(options_.topK, logits.size(1)), 1));
        auto conf = result_.confusion.accessor<int64_t, 2>();
        for (size_t n = 0; n < batch.indices.size(); ++n) {
            ++result_.evaluated;
            const int label = source_.label(batch.indices[n]);
            if (label < 0 || label >= model_->numClasses())
                continue;
            ++result_.labelled;
            const int64_t predicted = top[n][0].item<int64_t>();
            ++conf[label][predicted];
            result_.correctTop1 += predicted == label;
            result_.correctTopK += (top[n] == label).any().item<bool>();
        }
    }
    return prefetcher_->pending();
}

} // namespace convscope
