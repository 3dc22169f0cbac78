#include "data/BatchPrefetcher.h"

#include "common/RuntimePolicy.h"
#include "data/BatchAssembly.h"

#include <algorithm>

#include <pthread.h>
#include <sched.h>

namespace convscope {

namespace {

/// The calling thread runs only when a core would otherwise idle (Linux SCHED_IDLE; needs no privilege).
void lowestPriority()
{
#ifdef SCHED_IDLE
    sched_param none{};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);
#endif
}

} // namespace

BatchPrefetcher::BatchPrefetcher(const BatchReader &reader, std::int64_t total, int batchSize, Options options,
                                 std::int64_t first)
    : reader_(reader), total_(total), first_(std::clamp<std::int64_t>(first, 0, total)),
      batchSize_(std::max(1, batchSize)), options_(options), delivered_(first_), nextFirst_(first_)
{
    workers_ = std::max(1, options_.threads > 0 ? options_.threads : RuntimePolicy::cores());
    for (int t = 0; t < workers_; ++t)
        threads_.emplace_back([this] { work(); });
}

BatchPrefetcher::~BatchPrefetcher()
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    for (auto &t : threads_)
        t.join();
}

BatchPrefetcher::Pending *BatchPrefetcher::claim(bool frontOnly, std::int64_t &from, std::int64_t &to)
{
    Pending *p = nullptr;
    for (auto &q : inflight_) {
        if (q->claimed < q->batch->count()) {
            p = q.get();
            break;
        }
        if (frontOnly)
            return nullptr;
    }
    if (!p && (frontOnly ? inflight_.empty() : static_cast<int>(inflight_.size()) < std::max(1, options_.depth)) &&
        nextFirst_ < total_) {
        const std::int64_t count = std::min<std::int64_t>(batchSize_, total_ - nextFirst_);
        inflight_.push_back(std::make_unique<Pending>());
        inflight_.back()->batch = std::make_unique<BatchAssembly>(reader_, nextFirst_, count);
        nextFirst_ += count;
        p = inflight_.back().get();
    }
    if (!p)
        return nullptr;
    // Runs small enough that the threads finish a batch together, large enough that tiny images (28×28) do not
    // make the lock the bottleneck.
    const std::int64_t run = std::max<std::int64_t>(1, p->batch->count() / (4 * (workers_ + 1)));
    from = p->claimed;
    to = std::min(p->batch->count(), from + run);
    p->claimed = to;
    return p;
}

void BatchPrefetcher::decodeRun(std::unique_lock<std::mutex> &lock, Pending &p, std::int64_t from, std::int64_t to)
{
    lock.unlock();
    for (std::int64_t k = from; k < to && !stop_; ++k) // when stopping, the batch is dropped anyway
        p.batch->decode(k);
    lock.lock();
    p.finished += to - from;
    if (p.finished == p.batch->count())
        changed_.notify_all();
}

void BatchPrefetcher::work()
{
    if (options_.background)
        lowestPriority();
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        std::int64_t from = 0, to = 0;
        Pending *p = nullptr;
        changed_.wait(lock, [&] { return stop_ || (p = claim(false, from, to)) != nullptr; });
        if (stop_)
            return;
        decodeRun(lock, *p, from, to);
    }
}

std::optional<Batch> BatchPrefetcher::next()
{
    std::unique_lock<std::mutex> lock(mutex_);
    if (delivered_ >= total_)
        return std::nullopt;
    for (;;) {
        if (!inflight_.empty() && inflight_.front()->finished == inflight_.front()->batch->count())
            break;
        std::int64_t from = 0, to = 0;
        if (Pending *p = options_.help ? claim(true, from, to) : nullptr) {
            byConsumer_ += to - from;
            decodeRun(lock, *p, from, to);
            continue;
        }
        changed_.wait(lock);
    }
    std::unique_ptr<Pending> front = std::move(inflight_.front());
    inflight_.pop_front();
    delivered_ += front->batch->count();
    lock.unlock();
    changed_.notify_all(); // a slot is free: the workers open the next batch
    return front->batch->finish();
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

std::int64_t BatchPrefetcher::decodedByConsumer() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return byConsumer_;
}

} // namespace convscope
