#pragma once
// How a scan of T images splits into N shards: into contiguous runs of whole blocks of 64 images (the default batch
// size), B = ceil(T/64) blocks, shard I taking blocks [floor(I·B/N), floor((I+1)·B/N)) — images
// [64·floor(I·B/N), min(T, 64·floor((I+1)·B/N))). The shards tile the dataset in order (merged feature matrices keep
// its row order) and differ in size by at most 64 images. On block boundaries, a shard scanned at batch 64 (or 32,
// 16, …) sees exactly the batches a whole scan sees, so even fully connected outputs — whose last bits the BLAS may
// round differently for another batch size — merge bit for bit. Where a shard's own project goes:
// `<project>/shard-I-of-N`.
#include <cstdint>
#include <string>

namespace convscope {

class ShardPlan {
public:
    static constexpr std::int64_t kBlock = 64; ///< images per block: shard boundaries fall on multiples of it

    /// Throws UsageError when `shards` < 1.
    ShardPlan(std::int64_t images, int shards);

    std::int64_t first(int shard) const;
    std::int64_t end(int shard) const;
    int shards() const { return shards_; }
    std::int64_t images() const { return images_; }

    /// Parses "I/N" (0 ≤ I < N); throws UsageError with the expected form otherwise.
    static std::pair<int, int> parse(const std::string &text);
    /// The folder of shard `index` of `count` inside `project`.
    static std::string folder(const std::string &project, int index, int count);

private:
    std::int64_t images_;
    int shards_;
};

} // namespace convscope
