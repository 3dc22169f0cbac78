#include "jobs/JobContext.h"

#include "jobs/JobLane.h"

#include <QMetaObject>

namespace convscope {

JobContext::JobContext(JobLane *lane, quint64 id, std::function<void(std::int64_t, std::int64_t)> onReport)
    : QueuedProgress(lane, std::move(onReport)), lane_(lane), id_(id)
{
}

void JobContext::post(std::function<void()> apply) const
{
    invokeOnReceiver([lane = lane_, id = id_, apply = std::move(apply)] {
        if (lane && lane->isCurrent(id))
            apply();
    });
}

} // namespace convscope
