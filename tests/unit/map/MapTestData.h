#pragma once
// Test data for the map embeddings: Gaussian blobs with labels, and the 10-NN label accuracy of a map.
#include "CatchTorch.h"

#include <map>
#include <vector>

namespace maptest {

/// `clusters` Gaussian blobs in `dims` dimensions, `n` points; labels = blob.
inline torch::Tensor blobs(std::int64_t n, std::int64_t dims, int clusters, std::vector<int> &labels)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
    const torch::Tensor centres = 4 * torch::randn({clusters, dims}, gen);
    const torch::Tensor which = torch::randint(clusters, {n}, gen);
    labels.assign(static_cast<size_t>(n), 0);
    for (std::int64_t i = 0; i < n; ++i)
        labels[static_cast<size_t>(i)] = static_cast<int>(which[i].item<std::int64_t>());
    return (centres.index_select(0, which) + torch::randn({n, dims}, gen)).contiguous();
}

inline double knnAccuracy(const torch::Tensor &y, const std::vector<int> &labels)
{
    torch::Tensor d = torch::cdist(y, y);
    d.fill_diagonal_(INFINITY);
    const torch::Tensor nearest = std::get<1>(d.topk(10, 1, false));
    int correct = 0;
    for (std::int64_t i = 0; i < y.size(0); ++i) {
        std::map<int, int> votes;
        for (int j = 0; j < 10; ++j)
            ++votes[labels[static_cast<size_t>(nearest[i][j].item<std::int64_t>())]];
        int best = -1, most = 0;
        for (auto [l, c] : votes)
            if (c > most)
                best = l, most = c;
        correct += best == labels[static_cast<size_t>(i)] ? 1 : 0;
    }
    return static_cast<double>(correct) / static_cast<double>(y.size(0));
}

} // namespace maptest
