#include "compare/TensorMemoryMeter.h"

#include <algorithm>

namespace convscope {

void TensorMemoryMeter::reportMemoryUsage(void *, int64_t allocSize, int64_t, int64_t, c10::Device device)
{
    if (!device.is_cpu())
        return;
    current_ += allocSize;
    peak_ = std::max(peak_, current_);
}

TensorMemoryMeter::Scope::Scope()
    : meter_(std::make_shared<TensorMemoryMeter>()), guard_(c10::DebugInfoKind::PROFILER_STATE, meter_)
{
}

} // namespace convscope
