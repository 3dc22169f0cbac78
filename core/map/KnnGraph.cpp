#include "map/KnnGraph.h"

#include "search/ExactIndex.h"
#include "search/FaissIndex.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <numeric>

namespace convscope {

KnnGraph::KnnGraph(const torch::Tensor &x, int k, std::int64_t exactBelow)
    : n_(x.size(0)), k_(static_cast<int>(std::min<std::int64_t>(k, x.size(0) - 1)))
{
    const int wanted = k_ + 1; // the point itself comes back too
    std::vector<float> dist(static_cast<std::size_t>(n_ * wanted));
    std::vector<std::int64_t> nb(static_cast<std::size_t>(n_ * wanted));
    std::vector<std::int64_t> ids(static_cast<std::size_t>(n_));
    std::iota(ids.begin(), ids.end(), 0);
    if (n_ < exactBelow) {
        ExactIndex index(x.size(1), SearchIndex::Metric::L2);
        index.add(x.data_ptr<float>(), n_, ids.data());
        index.search(x.data_ptr<float>(), n_, wanted, dist.data(), nb.data());
    } else {
        // A sparser graph than for image search (M 16, not 32) builds twice as fast; the beam keeps recall high.
        FaissIndex::Options o;
        o.hnswM = 16;
        o.efConstruction = 48;
        o.efSearch = std::max(2 * wanted, 48);
        FaissIndex index(x.size(1), SearchIndex::Metric::L2, o);
        index.add(x.data_ptr<float>(), n_, ids.data());
        index.search(x.data_ptr<float>(), n_, wanted, dist.data(), nb.data());
    }
    distances_.assign(static_cast<std::size_t>(n_ * k_), std::numeric_limits<float>::infinity());
    ids_.assign(static_cast<std::size_t>(n_ * k_), -1);
    at::parallel_for(0, n_, 1024, [&](std::int64_t from, std::int64_t to) {
        for (std::int64_t i = from; i < to; ++i) {
            int m = 0;
            for (int j = 0; j < wanted && m < k_; ++j) {
                const std::int64_t id = nb[static_cast<std::size_t>(i * wanted + j)];
                if (id == i || id < 0)
                    continue;
                ids_[static_cast<std::size_t>(i * k_ + m)] = id;
                distances_[static_cast<std::size_t>(i * k_ + m)] = std::max(0.0f, dist[static_cast<std::size_t>(i * wanted + j)]);
                ++m;
            }
        }
    });
}

} // namespace convscope
