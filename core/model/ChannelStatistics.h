#pragma once
// Per (image, channel) of a batch of activation maps: the maximum with its first position and the mean — in one
// pass over the maps (the scan ranks units by both; two torch reductions read every map twice).
#include <torch/types.h>

namespace convscope {

struct ChannelStatistics {
    torch::Tensor max;    ///< N×C float32
    torch::Tensor argmax; ///< N×C int64: flat index (y·W + x) of the first maximum, row-major
    torch::Tensor mean;   ///< N×C float32 (float partial sums, added in double every 4096 values)

    /// `maps`: N×C×H×W or N×C (then H = W = 1), any float type. Runs on LibTorch's intra-op threads, with an AVX2
    /// version picked at run time where the CPU has it. NaNs are ignored unless a map holds nothing else (then the
    /// maximum is NaN at position 0); a map of -inf only has its maximum -inf at position 0. Also registered as a
    /// TorchScript operator (ChannelStatisticsOp) so a probe graph can reduce maps where they are made.
    static ChannelStatistics of(const torch::Tensor &maps);
};

} // namespace convscope
