#include "shard/ShardPlan.h"

#include "common/Error.h"

#include <algorithm>
#include <cctype>

namespace convscope {

ShardPlan::ShardPlan(std::int64_t images, int shards) : images_(images), shards_(shards)
{
    if (shards < 1)
        throw UsageError("a scan splits into at least one shard (got " + std::to_string(shards) + ")");
    if (images < 0)
        throw UsageError("negative image count");
}

std::int64_t ShardPlan::first(int shard) const
{
    // blocks < 2^31 and shards_ < 2^31: the product fits in 64 bits.
    const std::int64_t blocks = (images_ + kBlock - 1) / kBlock;
    return std::min(images_, kBlock * (blocks * shard / shards_));
}

std::int64_t ShardPlan::end(int shard) const
{
    return shard + 1 >= shards_ ? images_ : first(shard + 1);
}

std::pair<int, int> ShardPlan::parse(const std::string &text)
{
    const auto slash = text.find('/');
    auto number = [&](const std::string &part, long long &out) {
        if (part.empty() || part.size() > 9)
            return false;
        for (char c : part)
            if (!std::isdigit(static_cast<unsigned char>(c)))
                return false;
        out = std::stoll(part);
        return true;
    };
    long long index = 0, count = 0;
    if (slash == std::string::npos || !number(text.substr(0, slash), index) ||
        !number(text.substr(slash + 1), count) || count < 1 || index >= count)
        throw UsageError("--shard takes I/N with 0 <= I < N (shard I of N, counted from 0), e.g. 0/4; got '" +
                         text + "'");
    return {static_cast<int>(index), static_cast<int>(count)};
}

std::string ShardPlan::folder(const std::string &project, int index, int count)
{
    return project + "/shard-" + std::to_string(index) + "-of-" + std::to_string(count);
}

} // namespace convscope
