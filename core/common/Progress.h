#pragma once
// Progress reporting and cooperative cancellation for long computations (code without an event loop uses these;
// the GUI adapts them to signals). Algorithms call report() between chunks and check cancelled().
#include <atomic>
#include <cstdint>
#include <string>

namespace convscope {

/// Receives progress of a long computation. Implementations must be cheap: called once per chunk.
class Progress {
public:
    virtual ~Progress() = default;
    /// `done` of `total` units (images, iterations...) finished; `what` names the phase ("scanning").
    virtual void report(std::int64_t done, std::int64_t total, const std::string &what) = 0;
    /// True when the caller wants the computation to stop at the next chunk boundary.
    virtual bool cancelled() const { return false; }
};

/// A Progress that only carries a cancel flag (settable from any thread).
class CancelFlag : public Progress {
public:
    void report(std::int64_t, std::int64_t, const std::string &) override {}
    bool cancelled() const override { return flag_.load(std::memory_order_relaxed); }
    void cancel() { flag_.store(true, std::memory_order_relaxed); }

private:
    std::atomic<bool> flag_{false};
};

} // namespace convscope
