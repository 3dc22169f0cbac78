#pragma once
// The one way the GUI runs background work. A JobLane is one kind of work of one owner (the Workspace's model
// load, a panel's map or index build): start() runs a function on the thread pool and hands it a JobContext — a
// Progress whose reports reach the GUI thread (coalesced) and whose cancelled() turns true on cancel(), and post()
// for intermediate results. Exactly one handler of the job then runs on the GUI thread: done(value), cancelled()
// (the work threw CancelledError) or failed(JobError, typed by the error's family).
//
// Superseding: start() drops the lane's previous job (asked to stop, and none of its handlers runs), so a stale
// result never overwrites a newer one. Destroying the lane — its panel or window closing — cancels its jobs and
// waits for them only, not for other owners' work; a lane whose work is self-contained (it captures values, not
// its owner: a model load) need not wait at all (setWaitOnDestroy(false)), so closing never stalls on work that
// cannot stop midway. JobLane::pool()->waitForDone() before the process exits lets such work end. Only QImages and tensors should cross threads; handlers make
// QPixmaps.
//
//   JobHandlers<Map> on;
//   on.done = [this](Map &m) { show(m); };
//   on.cancelled = [this] { say("Stopped."); };
//   lane_->start<Map>([=](JobContext &job) { ...; if (job.cancelled()) throw CancelledError(); return map; }, on);
#include "common/Error.h"
#include "common/Progress.h"
#include "common/RuntimePolicy.h"
#include "jobs/JobOutcome.h"
#include "jobs/JobContext.h"

#include <QFuture>
#include <QFutureWatcher>
#include <QObject>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace convscope {

/// What runs on the GUI thread when a job of a lane ends or reports. Every member may be empty (then ignored).
template <class T>
struct JobHandlers {
    std::function<void(T &)> done;
    std::function<void()> cancelled;
    std::function<void(const JobError &)> failed;
    /// (done, total) as the work reported it; coalesced, so a burst of reports costs one call.
    std::function<void(std::int64_t, std::int64_t)> progress;
};

class JobLane : public QObject {
    Q_OBJECT
public:
    explicit JobLane(QObject *parent = nullptr);
    /// Cancels this lane's jobs and, unless setWaitOnDestroy(false), waits until their work returns (their handlers
    /// do not run).
    ~JobLane() override;
    /// false: the destructor does not wait for running work, which finishes on the pool and is discarded. Only for
    /// work that captures values, never its owner.
    void setWaitOnDestroy(bool wait) { waitOnDestroy_ = wait; }

    /// Runs `work` on the thread pool; drops the job this lane was running (see the header comment).
    template <class T>
    void start(std::function<T(JobContext &)> work, JobHandlers<T> handlers);

    /// Shorthand for work that reports no progress and has no Stop of its own: `done(value)` or `failed(message)`
    /// (empty = ignored); a cancelled job calls neither.
    template <class T>
    void run(std::function<T()> work, std::function<void(T &)> done,
             std::function<void(const QString &)> failed = {});

    /// Asks the current job to stop; its `cancelled` handler runs once the work has thrown CancelledError (work
    /// that finishes anyway delivers `done`). No-op when nothing runs.
    void cancel();
    /// Asks the current job to stop and forgets it: none of its handlers runs. No-op when nothing runs.
    void drop();
    /// True while a job whose outcome is still wanted runs.
    bool active() const { return current_ != 0; }
    /// True while job `id` (JobContext) is the one whose outcome is wanted.
    bool isCurrent(quint64 id) const { return id != 0 && id == current_; }
    /// Jobs whose work has not returned yet, dropped ones included.
    int pending() const { return static_cast<int>(running_.size()); }
    /// Processes events until pending() is 0 (tests, shutdown).
    void waitForIdle();
    /// The threads every lane's work runs on. Not QThreadPool::globalInstance(): Qt's raster painting and image
    /// conversions split their work over the global pool and wait for it on the GUI thread, so a long job there
    /// (a model load, a scan, a t-SNE) would stall every repaint until it ended.
    static QThreadPool *pool();

Q_SIGNALS:
    /// active() changed.
    void activeChanged(bool active);
    /// A job ended: its handler ran, or it had been dropped.
    void settled();

private:
    struct Running {
        quint64 id;
        QFuture<void> future;
        std::shared_ptr<JobContext> context;
    };
    /// Drops the current job and registers a new one; returns its id.
    quint64 begin(const QFuture<void> &future, std::shared_ptr<JobContext> context);
    /// Forgets job `id`; true when its outcome is still wanted (it was current), and then it is no longer current.
    bool end(quint64 id);
    void setCurrent(quint64 id);

    std::vector<Running> running_;
    quint64 current_ = 0, lastId_ = 0;
    bool waitOnDestroy_ = true;
};

template <class T>
void JobLane::start(std::function<T(JobContext &)> work, JobHandlers<T> handlers)
{
    const quint64 id = lastId_ + 1;
    // Reports of a job that is no longer current are dropped here, on the GUI thread.
    auto onReport = [this, id, report = handlers.progress](std::int64_t done, std::int64_t total) {
        if (report && id == current_)
            report(done, total);
    };
    auto context = std::make_shared<JobContext>(this, id, onReport);
    auto outcome = std::make_shared<JobOutcome<T>>();
    auto *watcher = new QFutureWatcher<void>(this);
    connect(watcher, &QFutureWatcher<void>::finished, this, [this, watcher, id, outcome, handlers] {
        watcher->deleteLater();
        if (end(id)) {
            if (outcome->kind == JobOutcome<T>::Kind::Done && handlers.done)
                handlers.done(*outcome->value);
            else if (outcome->kind == JobOutcome<T>::Kind::Cancelled && handlers.cancelled)
                handlers.cancelled();
            else if (outcome->kind == JobOutcome<T>::Kind::Failed && handlers.failed)
                handlers.failed(outcome->error);
        }
        Q_EMIT settled();
    });
    QFuture<void> future = QtConcurrent::run(pool(), [work = std::move(work), context, outcome] {
        const auto started = std::chrono::steady_clock::now();
        try {
            outcome->value.emplace(work(*context));
            outcome->kind = JobOutcome<T>::Kind::Done;
        } catch (const CancelledError &) {
            outcome->kind = JobOutcome<T>::Kind::Cancelled;
        } catch (...) {
            outcome->kind = JobOutcome<T>::Kind::Failed;
            outcome->error = JobError::from(std::current_exception());
        }
        // What a long job freed (a deep model's scan keeps gigabytes for reuse while it runs) goes back to the
        // system; short jobs (a grid's render) have little to give back and run often.
        if (std::chrono::steady_clock::now() - started > std::chrono::milliseconds(500))
            RuntimePolicy::releaseFreedMemory();
    });
    begin(future, std::move(context));
    watcher->setFuture(future);
}

template <class T>
void JobLane::run(std::function<T()> work, std::function<void(T &)> done, std::function<void(const QString &)> failed)
{
    JobHandlers<T> on;
    on.done = std::move(done);
    if (failed)
        on.failed = [failed](const JobError &e) { failed(e.message); };
    start<T>([work = std::move(work)](JobContext &) { return work(); }, std::move(on));
}

} // namespace convscope
