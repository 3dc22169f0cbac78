// Top-k per channel from distinct images: equals a brute-force ranking whatever the batch split, ties included.
#include "CatchTorch.h"

#include "common/Error.h"
#include "scan/TopKTracker.h"

#include <algorithm>

using namespace convscope;

namespace {

std::vector<TopKTracker::Entry> bruteForce(const torch::Tensor &all, int64_t channel, int k, bool mean)
{
    std::vector<TopKTracker::Entry> e;
    const int64_t w = all.size(3);
    for (int64_t n = 0; n < all.size(0); ++n) {
        torch::Tensor map = all[n][channel].flatten();
        if (mean) {
            e.push_back({map.mean().item<float>(), n, -1, -1});
        } else {
            int64_t at = 0;
            for (int64_t i = 1; i < map.size(0); ++i) // first maximum
                if (map[i].item<float>() > map[at].item<float>())
                    at = i;
            e.push_back({map[at].item<float>(), n, int(at / w), int(at % w)});
        }
    }
    std::stable_sort(e.begin(), e.end(), [](const auto &a, const auto &b) {
        return a.value != b.value ? a.value > b.value : a.image < b.image;
    });
    e.resize(std::min<size_t>(e.size(), static_cast<size_t>(k)));
    return e;
}

void compare(const std::vector<TopKTracker::Entry> &a, const std::vector<TopKTracker::Entry> &b)
{
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        INFO("rank " << i);
        CHECK(a[i].value == b[i].value);
        CHECK(a[i].image == b[i].image);
        CHECK(a[i].y == b[i].y);
        CHECK(a[i].x == b[i].x);
    }
}

} // namespace

TEST_CASE("top-k from distinct images equals brute force, any batch split, with ties", "[scan][topk]")
{
    torch::manual_seed(3);
    // Small integers make many ties between images and within maps.
    // Channel 4 is a dead unit: the same value for every image (all tie, whatever the statistic).
    torch::Tensor all = torch::randint(0, 6, {57, 5, 4, 3}).to(torch::kFloat32);
    all.select(1, 4).fill_(2.0f);
    for (auto statistic : {TopKTracker::Statistic::SpatialMax, TopKTracker::Statistic::SpatialMean})
        for (int batch : {1, 7, 57, -7}) { // -7: batches of 7 fed last first (image ids not ascending)
            TopKTracker tracker(5, 9, statistic);
            const int64_t step = std::abs(batch), batches = (all.size(0) + step - 1) / step;
            for (int64_t b = 0; b < batches; ++b) {
                const int64_t first = (batch < 0 ? batches - 1 - b : b) * step;
                const int64_t n = std::min<int64_t>(step, all.size(0) - first);
                std::vector<int64_t> ids(static_cast<size_t>(n));
                for (int64_t i = 0; i < n; ++i)
                    ids[i] = first + i;
                tracker.add(all.narrow(0, first, n), ids);
            }
            for (int64_t c = 0; c < 5; ++c) {
                INFO("batch " << batch << " channel " << c);
                compare(tracker.top(c), bruteForce(all, c, 9, statistic == TopKTracker::Statistic::SpatialMean));
            }
        }
}

TEST_CASE("top-k keeps fewer entries than k when fewer images were seen, and resumes from its state", "[scan][topk]")
{
    TopKTracker t(2, 9);
    t.add(torch::tensor({{1.0f, 2.0f}, {3.0f, -1.0f}}), {10, 11}); // fully connected: N×C
    auto top0 = t.top(0);
    REQUIRE(top0.size() == 2);
    CHECK(top0[0].image == 11);
    CHECK(top0[0].y == 0);
    TopKTracker resumed(2, 9);
    resumed.restore(t.state());
    resumed.add(torch::tensor({{5.0f, 0.0f}}), {12});
    CHECK(resumed.top(0)[0].image == 12);
    CHECK(resumed.top(1)[0].image == 10);
    CHECK(resumed.top(1).size() == 3);
    CHECK_THROWS_AS(t.add(torch::zeros({1, 3}), {1}), UsageError);
    CHECK_THROWS_AS(t.add(torch::zeros({2, 2}), {1}), UsageError);
    CHECK_THROWS_AS(TopKTracker(3, 9).restore(t.state()), DataError);
}

TEST_CASE("top-k logs only the entries a batch leaves in the ranking, and replaying the logs rebuilds it", "[scan][topk]")
{
    torch::manual_seed(11);
    const torch::Tensor all = torch::randn({300, 6, 3, 4});
    // Ties across images, so the replay has to order them as the scan did.
    all.narrow(0, 100, 50).select(1, 2).fill_(7.0f);
    for (auto statistic : {TopKTracker::Statistic::SpatialMax, TopKTracker::Statistic::SpatialMean}) {
        TopKTracker tracker(6, 9, statistic), replayed(6, 9, statistic);
        tracker.setRecording(true);
        std::size_t logged = 0;
        for (int64_t first = 0; first < 300; first += 64) {
            const int64_t n = std::min<int64_t>(64, 300 - first);
            std::vector<int64_t> ids(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i)
                ids[static_cast<size_t>(i)] = first + i;
            tracker.add(all.narrow(0, first, n), ids);
            const auto log = tracker.takeAccepted();
            if (first == 0)
                CHECK(log.size() == 6 * 9); // the survivors of the first batch, not every entry on the way
            logged += log.size();
            for (const auto &a : log) {
                const auto top = tracker.top(a.channel);
                CHECK(std::any_of(top.begin(), top.end(), [&](const auto &e) { return e.image == a.entry.image; }));
                replayed.offer(a.channel, a.entry);
            }
        }
        CHECK(logged < 6 * 9 * 3); // 300 images: a few more per channel after the first batch, not 9 per batch
        for (int64_t c = 0; c < 6; ++c) {
            INFO("channel " << c);
            compare(replayed.top(c), tracker.top(c));
            const auto brute = bruteForce(all, c, 9, statistic == TopKTracker::Statistic::SpatialMean);
            const auto top = tracker.top(c);
            REQUIRE(top.size() == brute.size());
            for (size_t j = 0; j < top.size(); ++j) // means of 12 values: ATen sums in another order, same images
                CHECK(top[j].image == brute[j].image);
        }
    }
}
