#include "Scan.h"

#include "Error.h"

namespace convscope {

std::vector<int> Scan::defaultLayers(const Model &model)
{
    std::vector<int> out;
    for (const auto &l : model.layers())
        if (l.capturable && l.outputShape.size() == 4 && (l.kind == LayerKind::Conv || l.kind == LayerKind::Block))
            out.push_back(l.index);
    return out;
}

Scan::Scan(std::shared_ptr<const Model> model, const ImageSource &source, Options options)
    : model_(std::move(model)), source_(source), options_(std::move(options)),
      reader_(source, Preprocessor(model_->input()))
{
    if (options_.layers.empty()) {
        which_ = defaultLayers(*model_);
    } else {
        for (const auto &name : options_.layers)
            which_.push_back(model_->layer(name).index);
    }
    for (int index : which_) {
        const LayerInfo &l = model_->layers()[index];
        if (!l.capturable)
            throw UsageError("cannot scan '" + l.path + "': " + l.whyNot);
        if (l.outputShape.size() != 4 && l.outputShape.size() != 2)
            throw UsageError("cannot scan '" + l.path + "': its output is not channels × height × width");
        const int64_t channels = l.outputShape[1];
        results_.push_back({index, TopKTracker(channels, options_.k, TopKTracker::Statistic::SpatialMax),
                            TopKTracker(channels, options_.k, TopKTracker::Statistic::SpatialMean)});
    }
    if (which_.empty())
        throw UsageError("no layer to scan");
    total_ = options_.limit >= 0 ? std::min(options_.limit, source.size()) : source.size();
    if (total_ == 0)
        throw DataError("the dataset holds no images");
    options_.batchSize = std::max(1, options_.batchSize);
    predictions_.assign(static_cast<size_t>(total_), -1);
    prefetcher_ = std::make_unique<BatchPrefetcher>(reader_, total_, options_.batchSize);
}

Scan::~Scan() = default;

bool Scan::run(int batches)
{
    for (int b = 0; b < batches; ++b) {
        std::optional<Batch> next = prefetcher_->next();
        if (!next)
            break;
        Batch &batch = *next;
        skipped_.insert(skipped_.end(), batch.skipped.begin(), batch.skipped.end());
        if (!batch.input.defined())
            continue;
        Probe::Output out = model_->probe().run(batch.input, which_);
        for (size_t i = 0; i < results_.size(); ++i) {
            results_[i].byMax.add(out.captured[i], batch.indices);
            results_[i].byMean.add(out.captured[i], batch.indices);
        }
        if (model_->numClasses() > 0) {
            torch::Tensor predicted = Model::firstTensor(out.modelOutput).argmax(1);
            for (size_t n = 0; n < batch.indices.size(); ++n)
                predictions_[static_cast<size_t>(batch.indices[n])] = static_cast<int>(predicted[n].item<int64_t>());
        }
    }
    return prefetcher_->pending();
}

} // namespace convscope
