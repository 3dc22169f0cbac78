#pragma once
// k-means clustering (Lloyd's iterations from a k-means++ start) of rows of a matrix, e.g. the dataset map's 2-D
// positions for "colour by cluster". Seeded: the same input, k and seed give the same clusters.
#include <torch/types.h>

#include <cstdint>

namespace convscope {

class KMeans {
public:
    struct Options {
        int k = 10;              ///< clusters (capped at the number of rows)
        int iterations = 50;     ///< Lloyd iterations at most (stops earlier when no assignment changes)
        std::uint64_t seed = 1;  ///< the k-means++ draws
    };

    /// `x`: N×D. Returns N cluster ids (int64, 0 … k−1), clusters numbered by decreasing size.
    static torch::Tensor cluster(const torch::Tensor &x, Options options);
};

} // namespace convscope
