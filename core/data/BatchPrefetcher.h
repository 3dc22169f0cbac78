#pragma once
// Decodes the batches of a dataset range ahead of the consumer, so decoding overlaps inference, on as many threads
// as keep the consumer fed:
//  - a pool of long-lived decode workers (one per core by default) fills up to `depth` batches ahead, image by
//    image; the workers run at the lowest scheduling priority, so on a machine whose cores the forward pass
//    already uses they decode in its idle moments (serial stretches, waits at barriers) instead of preempting its
//    threads — a preempted OpenMP thread stalls its whole team;
//  - a consumer that finds its next batch unfinished decodes that batch's remaining images itself, at its own
//    priority, next to the workers: while it waits the forward pass is not running, so all cores decode.
// Long-lived threads matter: a new thread per batch would make OpenMP build a new worker team for every batch it
// touches, which cost a third of the scan's time.
#include "data/BatchAssembly.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace convscope {

class BatchPrefetcher {
public:
    struct Options {
        int depth = 2;          ///< batches decoded ahead of the consumer (memory: depth × one batch's tensor)
        int threads = 0;        ///< decode workers; 0 = one per core
        bool background = true; ///< workers at the lowest priority (SCHED_IDLE); false: the process's priority
        bool help = true;       ///< a waiting consumer decodes the rest of its batch itself
    };

    /// Images [first, total) of the reader's source in batches of `batchSize`.
    BatchPrefetcher(const BatchReader &reader, std::int64_t total, int batchSize, Options options,
                    std::int64_t first = 0);
    BatchPrefetcher(const BatchReader &reader, std::int64_t total, int batchSize)
        : BatchPrefetcher(reader, total, batchSize, Options{}, 0) {}
    /// Stops the workers (an image being decoded is finished first) and joins them. A worker at idle priority
    /// gets a core at once here, as the consumer no longer computes — unless other processes fill every core.
    ~BatchPrefetcher();
    BatchPrefetcher(const BatchPrefetcher &) = delete;
    BatchPrefetcher &operator=(const BatchPrefetcher &) = delete;

    /// The next batch in order, decoding or waiting for it if needed; nullopt when all were delivered. Rethrows
    /// what stopped a worker (bad images never do: they land in Batch::skipped).
    std::optional<Batch> next();
    /// True while batches remain to be delivered.
    bool pending() const;
    /// One past the last image handed out (used or skipped): `first` at the start, `total` at the end.
    std::int64_t delivered() const;
    /// Images of delivered batches that the consumer decoded itself while waiting (how starved it was).
    std::int64_t decodedByConsumer() const;

private:
    /// A batch in flight. Images are taken one at a time (claimed.fetch_add), so a waiting consumer can take
    /// every image no worker has started: it waits for at most one image per worker. A thread takes its next image
    /// before it counts the last one finished, and touches the batch no more once it got none: the consumer frees
    /// a batch as soon as every image is finished.
    struct Pending {
        std::unique_ptr<BatchAssembly> batch;
        std::atomic<std::int64_t> claimed{0}, finished{0};
        bool open() const { return claimed.load() < batch->count(); }
        bool done() const { return finished.load() == batch->count(); }
    };
    /// Under the lock: takes image `k` of a batch with images left (opening a new one when allowed), or nullptr.
    Pending *claim(bool frontOnly, std::int64_t &k);
    /// Decodes image `k` of `p` and the next ones it can take, without the lock; returns how many.
    std::int64_t decodeFrom(std::unique_lock<std::mutex> &lock, Pending &p, std::int64_t k);
    void work();

    const BatchReader &reader_;
    const std::int64_t total_, first_;
    const int batchSize_;
    const Options options_;
    int workers_ = 1;
    std::int64_t delivered_;  ///< one past the last image handed out by next()
    std::int64_t nextFirst_;  ///< first image of the next batch to open
    std::int64_t byConsumer_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::unique_ptr<Pending>> inflight_; ///< in dataset order; at most depth
    std::atomic<bool> stop_{false}; ///< read between images without the lock
    std::exception_ptr failure_;    ///< what ended a worker (out of memory, say): next() throws it
    std::vector<std::thread> threads_;
};

} // namespace convscope
