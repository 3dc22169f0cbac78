#include "search/DescriptorCompression.h"

#include "common/Error.h"
#include "common/Progress.h"
#include "search/DescriptorPipeline.h"

#include <faiss/impl/ProductQuantizer.h>

#include <torch/torch.h>

#include <limits>

namespace convscope {

std::vector<DescriptorCompression::Row> DescriptorCompression::table(const torch::Tensor &descriptors,
                                                                     const std::vector<std::int64_t> &trainRows,
                                                                     const std::vector<int> &testLabels,
                                                                     const Options &options, Progress *progress)
{
    if (descriptors.dim() != 2 || descriptors.size(0) != static_cast<std::int64_t>(testLabels.size()))
        throw UsageError("one descriptor row and test label per dataset image expected");
    const torch::Tensor all = descriptors.to(torch::kFloat32).contiguous();
    const std::int64_t d = all.size(1);
    const torch::Tensor train = all.index_select(0, torch::tensor(trainRows, torch::kInt64));
    const torch::Tensor usableTrain = train.index({train.isfinite().all(1)}).contiguous();
    if (usableTrain.size(0) < 2)
        throw DataError("compression needs at least 2 training images with descriptors");
    const RetrievalEvaluator evaluator(testLabels, options.evaluation);
    std::vector<Row> rows;
    const auto total = static_cast<std::int64_t>(1 + options.pcaDims.size() + options.pqBytes.size());
    auto step = [&](const std::string &what) {
        if (progress && progress->cancelled())
            throw CancelledError();
        if (progress)
            progress->report(static_cast<std::int64_t>(rows.size()), total, what);
    };
    step("scoring the descriptors");
    rows.push_back({"float32", d, d * 4, evaluator.evaluate(all)});
    for (int dims : options.pcaDims) {
        if (dims <= 0 || dims >= d)
            continue;
        step("PCA to " + std::to_string(dims));
        DescriptorPipeline::Options po;
        po.pca = dims;
        DescriptorPipeline pca(po);
        pca.fit(usableTrain);
        rows.push_back({"PCA", pca.outputDims(), pca.outputDims() * 4, evaluator.evaluate(pca.transform(all))});
    }
    const torch::Tensor finite = all.isfinite().all(1);
    const torch::Tensor filled = all.nan_to_num(0, 0, 0).contiguous();
    for (int bytes : options.pqBytes) {
        if (bytes <= 0 || bytes > d || d % bytes != 0)
            continue;
        if (usableTrain.size(0) < 256) // 8-bit codes need 256 centroids per sub-vector
            break;
        step("product quantisation to " + std::to_string(bytes) + " bytes");
        faiss::ProductQuantizer pq(static_cast<size_t>(d), static_cast<size_t>(bytes), 8);
        pq.verbose = false;
        pq.cp.min_points_per_centroid = 1; // few images per centroid are fine here; no console warning
        pq.train(usableTrain.size(0), usableTrain.data_ptr<float>());
        const auto n = static_cast<size_t>(filled.size(0));
        std::vector<std::uint8_t> codes(n * pq.code_size);
        pq.compute_codes(filled.data_ptr<float>(), codes.data(), n);
        torch::Tensor decoded = torch::empty_like(filled);
        pq.decode(codes.data(), decoded.data_ptr<float>(), n);
        decoded.index_put_({finite.logical_not()}, std::numeric_limits<float>::quiet_NaN());
        rows.push_back({"PQ", d, static_cast<std::int64_t>(pq.code_size), evaluator.evaluate(decoded, all)});
    }
    if (progress)
        progress->report(total, total, "done");
    return rows;
}

} // namespace convscope
