#include "search/RetrievalEvaluator.h"

#include "search/DescriptorPipeline.h"
#include "common/Error.h"
#include "search/ExactIndex.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "common/NpyFile.h"
#include "common/Progress.h"
#include "scan/ProjectStore.h"
#include "scan/StoredFeatures.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

namespace convscope {

RetrievalEvaluator::RetrievalEvaluator(std::vector<int> labels, Options options)
    : labels_(std::move(labels)), options_(options)
{
}

RetrievalEvaluator::Result RetrievalEvaluator::evaluate(const torch::Tensor &descriptors,
                                                       const torch::Tensor &queryDescriptors) const
{
    if (descriptors.dim() != 2 || descriptors.size(0) != static_cast<std::int64_t>(labels_.size()))
        throw UsageError("one descriptor row per dataset image expected");
    if (queryDescriptors.defined() && !queryDescriptors.sizes().equals(descriptors.sizes()))
        throw UsageError("query descriptors must have the database's shape");
    const torch::Tensor usableRows = descriptors.isnan().any(1).logical_not();
    std::vector<std::int64_t> rows;
    for (std::int64_t i = 0; i < descriptors.size(0); ++i)
        if (labels_[static_cast<size_t>(i)] >= 0 && usableRows[i].item<bool>())
            rows.push_back(i);
    if (rows.size() < 2)
        throw DataError("retrieval needs at least 2 labelled images with descriptors");
    const torch::Tensor db = descriptors.index_select(0, torch::tensor(rows)).to(torch::kFloat32).contiguous();
    const torch::Tensor qdb = queryDescriptors.defined()
                                  ? queryDescriptors.index_select(0, torch::tensor(rows)).to(torch::kFloat32)
                                  : db;
    const auto n = static_cast<std::int64_t>(rows.size());
    std::vector<int> label(rows.size());
    std::map<int, std::int64_t> perLabel;
    for (size_t i = 0; i < rows.size(); ++i)
        ++perLabel[label[i] = labels_[static_cast<size_t>(rows[i])]];

    std::vector<std::int64_t> queries(rows.size());
    std::iota(queries.begin(), queries.end(), 0);
    if (options_.queries > 0 && static_cast<std::int64_t>(queries.size()) > options_.queries) {
        std::mt19937_64 rng(options_.seed);
        std::shuffle(queries.begin(), queries.end(), rng);
        queries.resize(static_cast<size_t>(options_.queries));
        std::sort(queries.begin(), queries.end());
    }
    ExactIndex index(db.size(1), options_.metric);
    std::vector<std::int64_t> ids(rows.size());
    std::iota(ids.begin(), ids.end(), 0);
    index.add(db.data_ptr<float>(), n, ids.data());
    // Full rankings, a block of queries at a time (the query itself comes first or ties; it is skipped).
    const std::int64_t block = std::max<std::int64_t>(1, (1 << 22) / n);
    double apSum = 0, pSum = 0;
    const int k = options_.precisionAt;
    std::vector<float> dist;
    std::vector<std::int64_t> found;
    for (size_t q0 = 0; q0 < queries.size(); q0 += static_cast<size_t>(block)) {
        const size_t m = std::min(queries.size() - q0, static_cast<size_t>(block));
        torch::Tensor qs = qdb.index_select(0, torch::tensor(std::vector<std::int64_t>(
                                                  queries.begin() + static_cast<std::ptrdiff_t>(q0),
                                                  queries.begin() + static_cast<std::ptrdiff_t>(q0 + m))))
                               .contiguous();
        dist.resize(m * static_cast<size_t>(n));
        found.resize(m * static_cast<size_t>(n));
        index.search(qs.data_ptr<float>(), static_cast<std::int64_t>(m), static_cast<int>(n), dist.data(),
                     found.data());
        for (size_t i = 0; i < m; ++i) {
            const std::int64_t self = queries[q0 + i];
            const int want = label[static_cast<size_t>(self)];
            const std::int64_t relevantTotal = perLabel[want] - 1; // not itself
            std::int64_t rank = 0, hits = 0, hitsAtK = 0;
            double ap = 0;
            for (std::int64_t j = 0; j < n; ++j) {
                const std::int64_t id = found[i * static_cast<size_t>(n) + static_cast<size_t>(j)];
                if (id == self || id < 0)
                    continue;
                ++rank;
                if (label[static_cast<size_t>(id)] == want) {
                    ++hits;
                    ap += static_cast<double>(hits) / static_cast<double>(rank);
                    if (rank <= k)
                        ++hitsAtK;
                }
            }
            apSum += relevantTotal > 0 ? ap / static_cast<double>(relevantTotal) : 0.0;
            pSum += static_cast<double>(hitsAtK) / std::min<double>(k, static_cast<double>(n - 1));
        }
    }
    Result r;
    r.queries = static_cast<std::int64_t>(queries.size());
    r.database = n;
    r.map = apSum / static_cast<double>(r.queries);
    r.precisionAtK = pSum / static_cast<double>(r.queries);
    return r;
}

std::vector<RetrievalEvaluator::Row> RetrievalEvaluator::compare(const std::string &project,
                                                                 const Comparison &comparison, Options options,
                                                                 Progress *progress)
{
    ProjectStore store(project);
    const auto newest = store.latestComplete();
    if (!newest)
        throw DataError("project '" + project + "' holds no complete scan; run `convscope scan` first");
    auto model = Model::load(newest->modelPath);
    auto source = ImageSource::open(newest->dataset);
    std::vector<int> labels(static_cast<size_t>(source->size()));
    for (std::int64_t i = 0; i < source->size(); ++i)
        labels[static_cast<size_t>(i)] = source->label(i);
    if (std::all_of(labels.begin(), labels.end(), [](int l) { return l < 0; }))
        throw DataError("the dataset has no labels: retrieval is scored with classes as relevance");
    struct Source {
        std::string layer, descriptor, file;
    };
    std::vector<Source> sources;
    for (const StoredFeatures &f : StoredFeatures::kept(store, *newest, *model, comparison.layers)) {
        const std::string descriptor = descriptorName(f.pooling);
        if (descriptor == "fc" || std::find(comparison.descriptors.begin(), comparison.descriptors.end(),
                                            descriptor) != comparison.descriptors.end())
            sources.push_back({f.layer, descriptor, f.file});
    }
    for (const auto &l : comparison.layers) {
        const std::string path = model->layer(l).path;
        if (std::none_of(sources.begin(), sources.end(), [&](const Source &r) { return r.layer == path; }))
            throw UsageError("no features of layer '" + l + "' in the project: run `convscope index PROJECT --layer " +
                             l + "` (it computes them) or scan with --features");
    }
    if (sources.empty())
        throw DataError("the project's scans kept no features; scan without --features none");
    std::vector<Row> rows;
    const auto total = static_cast<std::int64_t>(sources.size() * comparison.pcaSizes.size());
    for (const Source &src : sources) {
        const torch::Tensor raw = NpyFile::read(src.file).to(torch::kFloat32);
        // A scan with a limit has rows for the first images only.
        const RetrievalEvaluator evaluator(
            std::vector<int>(labels.begin(), labels.begin() + std::min<std::int64_t>(raw.size(0), source->size())),
            options);
        for (int size : comparison.pcaSizes) {
            if (progress && progress->cancelled())
                throw CancelledError();
            DescriptorPipeline::Options po;
            po.pca = size;
            po.whiten = comparison.whiten;
            DescriptorPipeline pipeline(po);
            pipeline.fit(raw);
            rows.push_back({src.layer, src.descriptor, size, pipeline.outputDims(),
                            evaluator.evaluate(pipeline.transform(raw))});
            if (progress)
                progress->report(static_cast<std::int64_t>(rows.size()), total, "evaluating descriptors");
        }
    }
    return rows;
}

} // namespace convscope
