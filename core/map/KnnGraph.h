#pragma once
// Each point's k nearest other points (squared Euclidean distances, ascending), for the map embeddings' affinity
// graphs: exact (BLAS) search below `exactBelow` points, FAISS HNSW above (approximate; its parallel build may
// differ slightly from run to run; recall of the 14 nearest on the 70,000 demo feature vectors: 0.9994).
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace convscope {

class KnnGraph {
public:
    /// `x`: N×D float32, contiguous, no NaN. k is capped at N − 1.
    KnnGraph(const torch::Tensor &x, int k, std::int64_t exactBelow);

    std::int64_t points() const { return n_; }
    int k() const { return k_; }
    /// Neighbour `j` (0 … k−1) of point `i`; −1 when the approximate search found fewer (distance +inf).
    std::int64_t id(std::int64_t i, int j) const { return ids_[static_cast<std::size_t>(i * k_ + j)]; }
    float distance(std::int64_t i, int j) const { return distances_[static_cast<std::size_t>(i * k_ + j)]; }

private:
    std::int64_t n_ = 0;
    int k_ = 0;
    std::vector<float> distances_;
    std::vector<std::int64_t> ids_;
};

} // namespace convscope
