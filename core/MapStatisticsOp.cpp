#include "MapStatisticsOp.h"

#include "MapStatistics.h"

#include <torch/library.h>

#include <tuple>

namespace convscope {
namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor> mapStatistics(const at::Tensor &maps)
{
    MapStatistics s = MapStatistics::of(maps);
    return {std::move(s.max), std::move(s.argmax), std::move(s.mean)};
}

} // namespace

c10::Symbol MapStatisticsOp::symbol()
{
    static const c10::Symbol name = c10::Symbol::fromQualString("convscope::map_statistics");
    return name;
}

} // namespace convscope

TORCH_LIBRARY(convscope, m)
{
    m.def("map_statistics(Tensor maps) -> (Tensor, Tensor, Tensor)", &convscope::mapStatistics);
}
