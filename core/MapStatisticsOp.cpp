#include "MapStatisticsOp.h"

#include "MapStatistics.h"

#include <torch/library.h>

#include <mutex>
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
    static std::once_flag once;
    std::call_once(once, [] {
        // A fragment of the "convscope" operator namespace (RectifierRules defines the rest). Leaked on purpose:
        // the operator stays registered for the life of the process.
        auto *lib = new torch::Library(torch::Library::FRAGMENT, "convscope", c10::nullopt, __FILE__, __LINE__);
        lib->def("map_statistics(Tensor maps) -> (Tensor, Tensor, Tensor)", &mapStatistics);
    });
    static const c10::Symbol name = c10::Symbol::fromQualString("convscope::map_statistics");
    return name;
}

} // namespace convscope
