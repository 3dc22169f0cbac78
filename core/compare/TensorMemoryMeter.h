#pragma once
// Peak bytes of CPU tensor memory allocated on this thread while a meter is active: LibTorch's CPU allocator reports
// every allocation and free to the thread's memory reporter (the hook its profiler uses), so a forward pass run
// under a meter tells how much activation memory it needed at its peak. Work that ops hand to other threads, and
// libraries' own scratch buffers (oneDNN), are not seen; weights allocated before the meter starts are not counted.
//
//   TensorMemoryMeter::Scope scope;  model->forward(x);  scope.peakBytes();
#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>

#include <cstdint>
#include <memory>

namespace convscope {

class TensorMemoryMeter : public c10::MemoryReportingInfoBase {
public:
    void reportMemoryUsage(void *ptr, int64_t allocSize, int64_t totalAllocated, int64_t totalReserved,
                           c10::Device device) override;
    bool memoryProfilingEnabled() const override { return true; }

    /// Bytes allocated and not yet freed since the meter started (frees of older tensors make it negative).
    std::int64_t currentBytes() const { return current_; }
    /// The highest currentBytes() seen.
    std::int64_t peakBytes() const { return peak_; }

    /// Installs a meter on the calling thread for its lifetime.
    class Scope {
    public:
        Scope();
        std::int64_t peakBytes() const { return meter_->peakBytes(); }

    private:
        std::shared_ptr<TensorMemoryMeter> meter_;
        c10::DebugInfoGuard guard_;
    };

private:
    std::int64_t current_ = 0;
    std::int64_t peak_ = 0;
};

} // namespace convscope
