#include "data/BatchPrefetcher.h"

#include <algorithm>

namespace convscope {

BatchPrefetcher::BatchPrefetcher(const BatchReader &reader, std::int64_t total, int batchSize, int depth,
                                 std::int64_t first)
    : reader_(reader), total_(total), first_(std::clamp<std::int64_t>(first, 0, total)),
      batchSize_(std::max(1, batchSize)), depth_(std::max(1, depth)), delivered_(first_), thread_([this] { work(); })
{
}

BatchPrefetcher::~BatchPrefetcher()
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void BatchPrefetcher::work()
{
    for (std::int64_t first = first_; first < total_; first += batchSize_) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait(lock, [this] { return stop_ || static_cast<int>(ready_.size()) < depth_; });
            if (stop_)
                return;
        }
        Batch batch = reader_.read(first, std::min<std::int64_t>(batchSize_, total_ - first), 1);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ready_.push_back(std::move(batch));
        }
        changed_.notify_all();
    }
}

std::optional<Batch> BatchPrefetcher::next()
{
    std::unique_lock<std::mutex> lock(mutex_);
    if (delivered_ >= total_)
        return std::nullopt;
    changed_.wait(lock, [this] { return !ready_.empty(); });
    Batch batch = std::move(ready_.front());
    ready_.pop_front();
    delivered_ += static_cast<std::int64_t>(batch.indices.size() + batch.skipped.size());
    lock.unlock();
    changed_.notify_all();
    return batch;
}

std::int64_t BatchPrefetcher::delivered() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return delivered_;
}

bool BatchPrefetcher::pending() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return delivered_ < total_;
}

} // namespace convscope
