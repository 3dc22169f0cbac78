// ShardPlan: shards tile the images in order on multiples of 64, differ by at most 64 images, and "I/N" parses
// strictly.
#include "CatchTorch.h"

#include "common/Error.h"
#include "shard/ShardPlan.h"

using convscope::ShardPlan;

TEST_CASE("shard ranges tile the dataset in order on block boundaries and differ by at most a block", "[shard]")
{
    for (std::int64_t images : {1LL, 7LL, 70000LL, 1281167LL, 2000000000LL})
        for (int shards : {1, 2, 3, 7, 64, 1000}) {
            const ShardPlan plan(images, shards);
            std::int64_t smallest = images, largest = 0;
            CHECK(plan.first(0) == 0);
            for (int i = 0; i < shards; ++i) {
                if (i > 0)
                    CHECK(plan.first(i) == plan.end(i - 1));
                CHECK((plan.first(i) % 64 == 0 || plan.first(i) == images));
                CHECK(plan.first(i) <= plan.end(i));
                smallest = std::min(smallest, plan.end(i) - plan.first(i));
                largest = std::max(largest, plan.end(i) - plan.first(i));
            }
            CHECK(plan.end(shards - 1) == images);
            CHECK(largest - smallest <= 64);
        }
    CHECK(ShardPlan(3000, 3).first(1) == 960); // 47 blocks: 15, 16, 16
    CHECK(ShardPlan(3000, 3).end(1) == 1984);
    CHECK(ShardPlan(3000, 3).end(2) == 3000);
    CHECK(ShardPlan(70000, 2).first(1) == 35008);
    CHECK(ShardPlan(100, 4).first(1) == 0); // 2 blocks in 4 shards: some hold nothing
    CHECK(ShardPlan(100, 4).end(3) == 100);
    CHECK_THROWS_AS(ShardPlan(10, 0), convscope::UsageError);
}

TEST_CASE("shard specs parse as I/N with 0 <= I < N", "[shard]")
{
    CHECK(ShardPlan::parse("0/4") == std::pair<int, int>{0, 4});
    CHECK(ShardPlan::parse("12/13") == std::pair<int, int>{12, 13});
    for (const char *bad : {"4/4", "1", "/4", "1/", "-1/4", "a/b", "1/0", "1/4x", "1 /4", "99999999999/100000000000"})
        CHECK_THROWS_AS(ShardPlan::parse(bad), convscope::UsageError);
    CHECK(ShardPlan::folder("/p", 3, 8) == "/p/shard-3-of-8");
}
