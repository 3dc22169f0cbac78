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
    try {
        for (int t = 0; t < workers_; ++t)
            threads_.emplace_back([this] { work(); });
    } catch (...) { // no more threads: stop the ones started, then report
        stop_ = true;
        changed_.notify_all();
        for (auto &t : threads_)
            t.join();
        throw;
    }
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

BatchPrefetcher::Pending *BatchPrefetcher::claim(bool frontOnly, std::int64_t &k)
{
    for (auto &q : inflight_) {
        if (q->open() && (k = q->claimed++) < q->batch->count())
            return q.get();
        if (frontOnly)
            return nullptr;
    }
    const int limit = frontOnly ? 1 : std::max(1, options_.depth);
    if (static_cast<int>(inflight_.size()) >= limit || nextFirst_ >= total_)
        return nullptr;
    const std::int64_t count = std::min<std::int64_t>(batchSize_, total_ - nextFirst_);
    auto p = std::make_unique<Pending>();
    p->batch = std::make_unique<BatchAssembly>(reader_, nextFirst_, count); // may throw: nothing changed yet
    k = p->claimed++;
    inflight_.push_back(std::move(p));
    nextFirst_ += count;
    return inflight_.back().get();
}

std::int64_t BatchPrefetcher::decodeFrom(std::unique_lock<std::mutex> &lock, Pending &p, std::int64_t k)
{
    lock.unlock();
    const std::int64_t count = p.batch->count();
    std::int64_t decoded = 0;
    while (k < count) {
        p.batch->decode(k); // never throws for a bad image
        ++decoded;
        // The next image first: while this thread holds an unfinished one, the batch cannot be freed.
        const std::int64_t next = stop_ ? count : p.claimed++;
        if (++p.finished == count) {
            // Under the lock, so a consumer between its check and its wait cannot miss it.
            std::lock_guard<std::mutex> guard(mutex_);
            changed_.notify_all();
        }
        k = next; // past the end: `p` may be gone already
    }
    lock.lock();
    return decoded;
}

void BatchPrefetcher::work()
{
    if (options_.background)
        lowestPriority();
    std::unique_lock<std::mutex> lock(mutex_);
    try {
        for (;;) {
            Pending *p = nullptr;
            std::int64_t k = 0;
            changed_.wait(lock, [&] { return stop_ || (p = claim(false, k)) != nullptr; });
            if (stop_)
                return;
            decodeFrom(lock, *p, k);
        }
    } catch (...) { // out of memory for a batch, say: the consumer gets it from next()
        if (!lock.owns_lock())
            lock.lock();
        if (!failure_)
            failure_ = std::current_exception();
        changed_.notify_all();
    }
}

std::optional<Batch> BatchPrefetcher::next()
{
    std::unique_lock<std::mutex> lock(mutex_);
    if (delivered_ >= total_)
        return std::nullopt;
    for (;;) {
        if (!inflight_.empty() && inflight_.front()->done())
            break;
        if (failure_)
            std::rethrow_exception(failure_);
        std::int64_t k = 0;
        if (Pending *p = options_.help ? claim(true, k) : nullptr) {
            byConsumer_ += decodeFrom(lock, *p, k);
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
