#pragma once
// What a job's work function receives from its JobLane: a Progress whose reports reach the GUI thread (coalesced)
// and whose cancelled() turns true when the lane cancels or drops the job, plus post() for intermediate results
// (an animated map's frames) that must not outlive the job's turn.
#include "jobs/QueuedProgress.h"

#include <QPointer>

#include <functional>

namespace convscope {

class JobLane;

class JobContext : public QueuedProgress {
public:
    /// `onReport(done, total)` runs on the lane's thread; the lane filters out reports of jobs it dropped.
    JobContext(JobLane *lane, quint64 id, std::function<void(std::int64_t, std::int64_t)> onReport);

    /// Runs `apply` on the GUI thread, unless by then the job was dropped or superseded (then never). Callable from
    /// the worker; calls arrive in the order they were posted.
    void post(std::function<void()> apply) const;

private:
    QPointer<JobLane> lane_;
    quint64 id_;
};

} // namespace convscope
