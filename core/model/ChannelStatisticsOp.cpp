#include "model/ChannelStatisticsOp.h"

#include "model/ChannelStatistics.h"

#include <torch/library.h>

#include <mutex>
#include <tuple>

namespace convscope {
namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor> channelStatistics(const at::Tensor &maps)
{
    ChannelStatistics s = ChannelStatistics::of(maps);
    return {std::move(s.max), std::move(s.argmax), std::move(s.mean)};
}

} // namespace

c10::Symbol ChannelStatisticsOp::symbol()
{
    static std::once_flag once;
    std::call_once(once, [] {
        // A fragment of the "convscope" operator namespace (RectifierRules defines the rest). Never destroyed: the
        // operator stays registered for the life of the process (a static pointer: reachable, not a leak).
        static auto *lib = new torch::Library(torch::Library::FRAGMENT, "convscope", c10::nullopt, __FILE__, __LINE__);
        lib->def("channel_statistics(Tensor maps) -> (Tensor, Tensor, Tensor)", &channelStatistics);
    });
    static const c10::Symbol name = c10::Symbol::fromQualString("convscope::channel_statistics");
    return name;
}

} // namespace convscope
