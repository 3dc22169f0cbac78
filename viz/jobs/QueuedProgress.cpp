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
    if (state_->queued.exchange(true) || !state_->receiver)
        return;
    // The call reads the latest numbers when it runs, so a burst of reports costs one GUI update.
    QMetaObject::invokeMethod(
        state_->receiver.data(),
        [state = state_] {
            state->queued.store(false);
            state->onReport(state->done.load(), state->total.load());
        },
        Qt::QueuedConnection);
}

} // namespace convscope
