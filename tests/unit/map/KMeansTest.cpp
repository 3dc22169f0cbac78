// k-means: recovers well-separated blobs, numbers clusters by size, and is reproducible.
#include "CatchTorch.h"

#include "common/Error.h"
#include "map/KMeans.h"
#include "MapTestData.h"

#include <map>

using namespace convscope;

TEST_CASE("k-means recovers blobs, numbered by size, reproducibly", "[map]")
{
    std::vector<int> labels;
    const torch::Tensor x = maptest::blobs(3000, 2, 5, labels) * 3; // 2-D, like map positions
    KMeans::Options o;
    o.k = 5;
    const torch::Tensor ids = KMeans::cluster(x, o);
    REQUIRE(ids.size(0) == 3000);
    // Purity: each cluster's most common label covers almost all of it.
    std::map<std::int64_t, std::map<int, int>> table;
    for (std::int64_t i = 0; i < 3000; ++i)
        ++table[ids[i].item<std::int64_t>()][labels[static_cast<size_t>(i)]];
    int pure = 0;
    for (const auto &[cluster, counts] : table) {
        int most = 0;
        for (const auto &[label, c] : counts)
            most = std::max(most, c);
        pure += most;
    }
    CHECK(pure > 0.97 * 3000);
    const torch::Tensor sizes = torch::bincount(ids);
    for (std::int64_t c = 1; c < sizes.size(0); ++c)
        CHECK(sizes[c - 1].item<std::int64_t>() >= sizes[c].item<std::int64_t>());
    CHECK(torch::equal(KMeans::cluster(x, o), ids));
    o.k = 50000; // more clusters than points: capped
    CHECK(KMeans::cluster(x.narrow(0, 0, 7), o).max().item<std::int64_t>() <= 6);
    CHECK_THROWS_AS(KMeans::cluster(torch::zeros({0, 2}), o), UsageError);
}
