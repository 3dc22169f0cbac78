#include "jobs/JobLane.h"

#include <QCoreApplication>

#include <algorithm>

namespace convscope {

JobLane::JobLane(QObject *parent) : QObject(parent) {}

JobLane::~JobLane()
{
    current_ = 0;
    for (const Running &r : running_)
        r.context->cancel();
    for (Running &r : running_)
        r.future.waitForFinished();
}

quint64 JobLane::begin(const QFuture<void> &future, std::shared_ptr<JobContext> context)
{
    drop();
    running_.push_back({++lastId_, future, std::move(context)});
    setCurrent(lastId_);
    return lastId_;
}

bool JobLane::end(quint64 id)
{
    running_.erase(std::remove_if(running_.begin(), running_.end(), [id](const Running &r) { return r.id == id; }),
                   running_.end());
    if (id != current_)
        return false;
    setCurrent(0);
    return true;
}

void JobLane::setCurrent(quint64 id)
{
    const bool was = active();
    current_ = id;
    if (was != active())
        Q_EMIT activeChanged(active());
}

void JobLane::cancel()
{
    for (const Running &r : running_)
        if (r.id == current_)
            r.context->cancel();
}

void JobLane::drop()
{
    cancel();
    setCurrent(0);
}

void JobLane::waitForIdle()
{
    while (!running_.empty())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

} // namespace convscope
