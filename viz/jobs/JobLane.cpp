#include "jobs/JobLane.h"

#include <QCoreApplication>
#include <QThread>

#include <algorithm>

namespace convscope {

JobLane::JobLane(QObject *parent) : QObject(parent) {}

QThreadPool *JobLane::pool()
{
    // At least 4 threads, so a short job (a unit's detail) does not queue behind two long ones (a scan and a map)
    // on a 2-core machine; the heavy work inside uses LibTorch's own intra-op threads.
    static QThreadPool *threads = [] {
        auto *p = new QThreadPool;
        p->setMaxThreadCount(std::max(4, QThread::idealThreadCount()));
        return p;
    }();
    return threads;
}

JobLane::~JobLane()
{
    current_ = 0;
    for (const Running &r : running_) {
        r.context->cancel();
        if (!waitOnDestroy_)
            r.context->detach(); // the work may outlive this lane: its reports and posts go nowhere
    }
    if (waitOnDestroy_)
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
