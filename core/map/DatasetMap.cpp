#include "map/DatasetMap.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "map/KMeans.h"

#include <torch/torch.h>

#include <numeric>

namespace convscope {

DatasetMap::DatasetMap(const std::string &project, Options options, Progress *progress)
    : options_(std::move(options))
{
    if (options_.layer.empty())
        throw UsageError("say which layer's features to map");
    source_ = StoredFeatures::find(project, options_.layer, options_.pooling, progress);
    torch::Tensor raw = NpyFile::read(source_.file).to(torch::kFloat32);
    if (options_.limit >= 0)
        raw = raw.narrow(0, 0, std::min<std::int64_t>(raw.size(0), options_.limit));
    const torch::Tensor keep = raw.isnan().any(1).logical_not().nonzero().flatten().contiguous();
    images_.assign(keep.data_ptr<std::int64_t>(), keep.data_ptr<std::int64_t>() + keep.numel());
    reduce(raw.index_select(0, keep));
}

DatasetMap::DatasetMap(const torch::Tensor &features, Options options) : options_(std::move(options))
{
    if (features.dim() != 2)
        throw UsageError("the features must be a 2-D matrix (rows = points)");
    const torch::Tensor raw = features.to(torch::kFloat32);
    const torch::Tensor bad = raw.isnan().any(1).nonzero();
    if (bad.numel() > 0)
        throw UsageError("row " + std::to_string(bad[0][0].item<std::int64_t>()) + " of the features holds NaN");
    images_.resize(static_cast<size_t>(raw.size(0)));
    std::iota(images_.begin(), images_.end(), std::int64_t{0});
    reduce(raw);
}

void DatasetMap::reduce(const torch::Tensor &raw)
{
    DescriptorPipeline::Options po;
    po.pca = options_.pca;
    po.normalise = options_.normalise;
    po.renormalise = false;
    pipeline_ = DescriptorPipeline(po);
    pipeline_.fit(raw);
    reduced_ = pipeline_.transform(raw);
}

DatasetMap::~DatasetMap() = default;

bool DatasetMap::run(int steps)
{
    if (!embedder_) {
        embedder_ = Embedder::create(reduced_, options_.embedding);
        return !done();
    }
    embedder_->run(steps);
    if (embedder_->done() && options_.clusters > 0 && !clusters_.defined()) {
        KMeans::Options ko;
        ko.k = options_.clusters;
        clusters_ = KMeans::cluster(embedder_->embedding(), ko);
    }
    return !done();
}

bool DatasetMap::done() const
{
    return embedder_ && embedder_->done() && (options_.clusters <= 0 || clusters_.defined());
}

int DatasetMap::step() const
{
    return embedder_ ? embedder_->step() : 0;
}

int DatasetMap::steps() const
{
    return embedder_ ? embedder_->steps() : 0;
}

torch::Tensor DatasetMap::embedding() const
{
    return embedder_ ? embedder_->embedding() : torch::Tensor();
}

std::string DatasetMap::methodTitle() const
{
    return options_.embedding.method == Embedder::Method::Umap ? "UMAP" : "t-SNE";
}

} // namespace convscope
