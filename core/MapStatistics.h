#pragma once
// Per (image, channel) of a batch of activation maps: the maximum with its first position and the mean — in one
// pass over the maps (the scan ranks units by both; two torch reductions read every map twice).
#include <torch/types.h>

namespace convscope {

struct MapStatistics {
    torch::Tensor max;    ///< N×C float32
    torch::Tensor argmax; ///< N×C int64: flat index (y·W + x) of the first maximum, row-major
    torch::Tensor mean;   ///< N×C float32 (eight float partial sums, added in double)

    /// `maps`: N×C×H×W or N×C (then H = W = 1), any float type. Runs on LibTorch's intra-op threads.
    static MapStatistics of(const torch::Tensor &maps);
};

} // namespace convscope
