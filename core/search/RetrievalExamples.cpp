#include "search/RetrievalExamples.h"

#include "common/Error.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"

#include <torch/torch.h>

#include <algorithm>
#include <random>

namespace convscope {

namespace {

std::vector<std::int64_t> nearest(const torch::Tensor &descriptors, const torch::Tensor &candidates,
                                  std::int64_t query, int k)
{
    const torch::Tensor q = descriptors[query].unsqueeze(0);
    const torch::Tensor rows = descriptors.index_select(0, candidates);
    torch::Tensor d = (rows - q).pow(2).sum(1);
    d = torch::where(candidates.eq(query) | d.isnan(), torch::full_like(d, INFINITY), d);
    const auto [values, order] = d.topk(std::min<std::int64_t>(k, d.size(0)), 0, false);
    std::vector<std::int64_t> out;
    for (std::int64_t i = 0; i < order.size(0); ++i)
        if (std::isfinite(values[i].item<float>()))
            out.push_back(candidates[order[i].item<std::int64_t>()].item<std::int64_t>());
    return out;
}

} // namespace

std::vector<RetrievalExamples::Example> RetrievalExamples::find(const torch::Tensor &before,
                                                                const torch::Tensor &after,
                                                                const std::vector<int> &testLabels,
                                                                const Options &options)
{
    const auto n = static_cast<std::int64_t>(testLabels.size());
    if (before.dim() != 2 || after.dim() != 2 || before.size(0) != n || after.size(0) != n)
        throw UsageError("one descriptor row per dataset image expected");
    const torch::Tensor usable = before.isfinite().all(1) & after.isfinite().all(1);
    std::vector<std::int64_t> test;
    for (std::int64_t i = 0; i < n; ++i)
        if (testLabels[static_cast<size_t>(i)] >= 0 && usable[i].item<bool>())
            test.push_back(i);
    if (test.size() < 2)
        throw DataError("examples need at least 2 test images with descriptors");
    std::vector<std::int64_t> queries = test;
    std::mt19937_64 rng(options.seed);
    std::shuffle(queries.begin(), queries.end(), rng);
    queries.resize(std::min(queries.size(), static_cast<size_t>(std::max(1, options.queries))));
    const torch::Tensor candidates = torch::tensor(test, torch::kInt64);
    const torch::Tensor b = before.to(torch::kFloat32), a = after.to(torch::kFloat32);
    std::vector<Example> out;
    for (auto q : queries)
        out.push_back({q, nearest(b, candidates, q, options.k), nearest(a, candidates, q, options.k)});
    return out;
}

TileSet RetrievalExamples::grid(const std::vector<Example> &examples, const ImageSource &source,
                                const InputSpec &input, const std::vector<std::string> &classNames)
{
    const Preprocessor pre(input);
    auto className = [&](int label) {
        return label >= 0 && label < static_cast<int>(classNames.size()) ? classNames[static_cast<size_t>(label)]
               : label >= 0                                                  ? "class " + std::to_string(label)
                                                                             : std::string("?");
    };
    size_t k = 0;
    for (const auto &e : examples)
        k = std::max({k, e.before.size(), e.after.size()});
    TileSet tiles;
    tiles.kind = TileValues::Color;
    tiles.columns = static_cast<int>(2 * k + 3);
    tiles.title = "The same test queries' " + std::to_string(k) +
                  " nearest: before (original descriptor) and after (adapted); ✓ = the query's class";
    std::vector<torch::Tensor> values;
    const torch::Tensor blank = torch::zeros({3, input.height, input.width});
    auto add = [&](std::int64_t image, const std::string &prefix, int want) {
        if (image < 0) {
            values.push_back(blank);
            tiles.captions.push_back(prefix);
            return;
        }
        const int label = source.label(image);
        try {
            values.push_back(Preprocessor::rgb(pre.fit(source.image(image))));
            // Results: ✓ alone for the query's class (short enough for small tiles), ✗ and the class otherwise.
            tiles.captions.push_back(prefix + (want < 0 ? className(label) : label == want ? std::string("✓")
                                                                                   : "✗ " + className(label)));
        } catch (const Error &) {
            values.push_back(blank);
            tiles.captions.push_back("unreadable");
        }
    };
    for (const auto &e : examples) {
        const int want = source.label(e.query);
        add(e.query, "", -1);
        add(-1, "before", -1);
        for (size_t i = 0; i < k; ++i)
            add(i < e.before.size() ? e.before[i] : -1, "", want);
        add(-1, "after", -1);
        for (size_t i = 0; i < k; ++i)
            add(i < e.after.size() ? e.after[i] : -1, "", want);
    }
    tiles.values = values.empty() ? torch::zeros({0, 3, input.height, input.width}) : torch::stack(values);
    return tiles;
}

} // namespace convscope
