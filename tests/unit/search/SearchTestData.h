#pragma once
// Data and measures shared by the search tests: clustered points like real descriptors, index ranges, recall@10.
#include "search/SearchIndex.h"

#include <torch/torch.h>

#include <numeric>
#include <set>
#include <vector>

namespace searchtest {

using convscope::SearchIndex;

/// Points around `clusters` random centres (a structure like real descriptors have), N×d.
inline torch::Tensor clustered(std::int64_t n, std::int64_t d, int clusters, std::uint64_t seed)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const torch::Tensor centres = torch::randn({clusters, d}, gen);
    const torch::Tensor which = torch::randint(clusters, {n}, gen);
    return (centres.index_select(0, which) + 0.35 * torch::randn({n, d}, gen)).contiguous();
}

inline std::vector<std::int64_t> iota(std::int64_t n)
{
    std::vector<std::int64_t> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
}

inline double recallAt10(const SearchIndex &approx, const SearchIndex &exact, const torch::Tensor &queries)
{
    const std::int64_t nq = queries.size(0);
    std::vector<float> d1(nq * 10), d2(nq * 10);
    std::vector<std::int64_t> i1(nq * 10), i2(nq * 10);
    approx.search(queries.data_ptr<float>(), nq, 10, d1.data(), i1.data());
    exact.search(queries.data_ptr<float>(), nq, 10, d2.data(), i2.data());
    std::int64_t hits = 0;
    for (std::int64_t q = 0; q < nq; ++q) {
        std::set<std::int64_t> truth(i2.begin() + q * 10, i2.begin() + q * 10 + 10);
        for (int j = 0; j < 10; ++j)
            hits += truth.count(i1[q * 10 + j]);
    }
    return static_cast<double>(hits) / static_cast<double>(nq * 10);
}

} // namespace searchtest
