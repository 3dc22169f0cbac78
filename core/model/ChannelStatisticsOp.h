#pragma once
// ChannelStatisticsOp: ChannelStatistics::of registered as the TorchScript operator
//   convscope::channel_statistics(Tensor maps) -> (Tensor max, Tensor argmax, Tensor mean)
// so a probe graph can reduce each map right where it is made, in one pass over the map instead of the two
// (max with its position, then mean) that ATen's reductions need.
#include <ATen/core/interned_strings.h>

namespace convscope {

class ChannelStatisticsOp {
public:
    /// The operator's name, for Graph::insert; registers the operator on first use.
    static c10::Symbol symbol();
};

} // namespace convscope
