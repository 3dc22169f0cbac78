#pragma once
// How a scan of T images splits into N shards: shard I covers the contiguous images [floor(I·T/N),
// floor((I+1)·T/N)), so the shards tile the dataset in order (merged feature matrices keep its row order) and
// differ in size by at most one image. Where a shard's own project goes: `<project>/shard-I-of-N`.
#include <cstdint>
#include <string>

namespace convscope {

class ShardPlan {
public:
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
