#pragma once
// A Progress for work on a worker thread that reports to the GUI thread: report() queues `onReport` on the
// receiver's thread (coalesced: at most one pending call), cancel() may be called from any thread. Safe if either
// side goes away first: queued calls share the state, and nothing runs once the receiver is gone.
#include "common/Progress.h"

#include <QObject>
#include <QPointer>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace convscope {

class QueuedProgress : public Progress {
public:
    /// `onReport(done, total)` runs on `receiver`'s thread.
    QueuedProgress(QObject *receiver, std::function<void(std::int64_t, std::int64_t)> onReport);
    void report(std::int64_t done, std::int64_t total, const std::string &what) override;
    bool cancelled() const override { return state_->cancelled.load(); }
    void cancel() { state_->cancelled.store(true); }
    /// Called on the receiver's thread before the receiver goes away while the work may still run: later reports
    /// and posts are dropped. Thread-safe against report() and invokeOnReceiver().
    void detach();

protected:
    /// Queues `call` on the receiver's thread unless the receiver is gone or detached.
    void invokeOnReceiver(std::function<void()> call) const;

private:
    struct State {
        mutable std::mutex mutex; ///< held while posting to the receiver, and by detach()
        bool detached = false;
        QPointer<QObject> receiver;
        std::function<void(std::int64_t, std::int64_t)> onReport;
        std::atomic<bool> cancelled{false}, queued{false};
        std::atomic<std::int64_t> done{0}, total{0};
    };
    std::shared_ptr<State> state_;
};

} // namespace convscope
