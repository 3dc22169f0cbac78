#include "jobs/QueuedProgress.h"

#include <QMetaObject>

namespace convscope {

QueuedProgress::QueuedProgress(QObject *receiver, std::function<void(std::int64_t, std::int64_t)> onReport)
    : state_(std::make_shared<State>())
{
    state_->receiver = receiver;
    state_->onReport = std::move(onReport);
}

void QueuedProgress::report(std::int64_t done, std::int64_t total, const std::string &)
{
    state_->done.store(done);
    state_->total.store(total);
    if (state_->queued.exchange(true))
        return;
    // The call reads the latest numbers when it runs, so a burst of reports costs one GUI update.
    invokeOnReceiver([state = state_] {
        state->queued.store(false);
        state->onReport(state->done.load(), state->total.load());
    });
}

void QueuedProgress::detach()
{
    const std::lock_guard<std::mutex> lock(state_->mutex);
    state_->detached = true;
}

void QueuedProgress::invokeOnReceiver(std::function<void()> call) const
{
    const std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->detached || !state_->receiver)
        return;
    QMetaObject::invokeMethod(state_->receiver.data(), std::move(call), Qt::QueuedConnection);
}

} // namespace convscope
