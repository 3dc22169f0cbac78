#pragma once
// Decodes the batches of a dataset range on one long-lived thread, a couple of batches ahead of the consumer, so
// decoding overlaps inference. One thread for the whole pass matters: a new thread per batch would make OpenMP
// build a new worker team for every batch it touches, which cost a third of the scan's time.
#include "data/BatchReader.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

namespace convscope {

class BatchPrefetcher {
public:
    /// Images [first, total) of the reader's source in batches of `batchSize`, at most `depth` batches ahead.
    BatchPrefetcher(const BatchReader &reader, std::int64_t total, int batchSize, int depth = 2,
                    std::int64_t first = 0);
    /// Stops the thread (a batch being decoded is finished first) and joins it.
    ~BatchPrefetcher();
    BatchPrefetcher(const BatchPrefetcher &) = delete;
    BatchPrefetcher &operator=(const BatchPrefetcher &) = delete;

    /// The next batch in order, waiting for it if needed; nullopt when all were delivered.
    std::optional<Batch> next();
    /// True while batches remain to be delivered.
    bool pending() const;
    /// One past the last image handed out (used or skipped): `first` at the start, `total` at the end.
    std::int64_t delivered() const;

private:
    void work();
    const BatchReader &reader_;
    const std::int64_t total_, first_;
    const int batchSize_, depth_;
    std::int64_t delivered_; ///< one past the last image handed out by next()
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Batch> ready_;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace convscope
