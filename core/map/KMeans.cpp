#include "map/KMeans.h"

#include "common/Error.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace convscope {

torch::Tensor KMeans::cluster(const torch::Tensor &xIn, Options options)
{
    if (xIn.dim() != 2 || xIn.size(0) == 0)
        throw UsageError("k-means needs a non-empty N×D matrix");
    const torch::Tensor x = xIn.to(torch::kFloat32).contiguous();
    const std::int64_t n = x.size(0);
    const std::int64_t k = std::max<std::int64_t>(1, std::min<std::int64_t>(options.k, n));
    auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    // k-means++: each next centre drawn with probability ∝ squared distance to the nearest centre so far.
    std::vector<std::int64_t> chosen = {torch::randint(n, {1}, generator).item<std::int64_t>()};
    torch::Tensor nearest = (x - x[chosen[0]]).pow(2).sum(1);
    while (static_cast<std::int64_t>(chosen.size()) < k) {
        const double total = nearest.sum().item<double>();
        std::int64_t next = 0;
        if (total > 0)
            next = torch::multinomial(nearest / total, 1, false, generator).item<std::int64_t>();
        chosen.push_back(next);
        nearest = torch::minimum(nearest, (x - x[next]).pow(2).sum(1));
    }
    torch::Tensor centres = x.index_select(0, torch::tensor(chosen)).clone();
    torch::Tensor assignment = torch::full({n}, -1, torch::kInt64);
    for (int it = 0; it < options.iterations; ++it) {
        const torch::Tensor next = torch::cdist(x, centres).argmin(1);
        const bool stable = torch::equal(next, assignment);
        assignment = next;
        if (stable)
            break;
        const torch::Tensor sums = torch::zeros_like(centres).index_add_(0, assignment, x);
        const torch::Tensor counts = torch::bincount(assignment, {}, k).to(torch::kFloat32).unsqueeze(1);
        const torch::Tensor empty = counts.eq(0).expand_as(centres);
        centres = torch::where(empty, centres, sums / counts.clamp_min(1));
    }
    // Number clusters by decreasing size (ties: lower old id first).
    const torch::Tensor counts = torch::bincount(assignment, {}, k);
    std::vector<std::int64_t> order(static_cast<std::size_t>(k));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return counts[a].item<std::int64_t>() > counts[b].item<std::int64_t>(); });
    torch::Tensor rename = torch::empty({k}, torch::kInt64);
    for (std::int64_t r = 0; r < k; ++r)
        rename[order[static_cast<std::size_t>(r)]] = r;
    return rename.index_select(0, assignment);
}

} // namespace convscope
