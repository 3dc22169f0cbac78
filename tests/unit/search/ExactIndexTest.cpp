// The exact index against plain brute force (L2, L1, cosine), grown, saved and reloaded.
#include "CatchTorch.h"

#include "search/DescriptorIndex.h"
#include "search/DescriptorPipeline.h"
#include "common/Error.h"
#include "search/ExactIndex.h"
#include "search/FaissIndex.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "search/RetrievalEvaluator.h"
#include "scan/StoredScan.h"
#include "TestPaths.h"

#include <QFile>
#include <QTemporaryDir>

#include <algorithm>
#include <fstream>
#include <set>

#include "SearchTestData.h"

using namespace searchtest;
using namespace convscope;

TEST_CASE("exact index equals plain brute force for l2, l1 and cosine, grows, saves and reloads", "[search]")
{
    const torch::Tensor db = clustered(3000, 16, 12, 5);
    const torch::Tensor queries = clustered(40, 16, 12, 6);
    for (auto metric : {SearchIndex::Metric::L2, SearchIndex::Metric::L1, SearchIndex::Metric::Cosine}) {
        INFO(SearchIndex::metricName(metric));
        ExactIndex index(16, metric);
        const auto ids = iota(3000);
        index.add(db.data_ptr<float>(), 1000, ids.data()); // in two parts: an index grows
        index.add(db[1000].data_ptr<float>(), 2000, ids.data() + 1000);
        REQUIRE(index.size() == 3000);
        std::vector<float> dist(40 * 5);
        std::vector<std::int64_t> found(40 * 5);
        index.search(queries.data_ptr<float>(), 40, 5, dist.data(), found.data());
        for (int q = 0; q < 40; ++q) {
            // Plain loops: the distance to every row, sorted.
            std::vector<std::pair<double, std::int64_t>> all;
            const torch::Tensor qrow = queries[q];
            auto qa = qrow.accessor<float, 1>();
            double qn = 0;
            for (int j = 0; j < 16; ++j)
                qn += qa[j] * qa[j];
            for (std::int64_t r = 0; r < 3000; ++r) {
                const torch::Tensor row = db[r];
                auto ra = row.accessor<float, 1>();
                double d = 0, dot = 0, rn = 0;
                for (int j = 0; j < 16; ++j) {
                    d += metric == SearchIndex::Metric::L1 ? std::abs(qa[j] - ra[j]) : (qa[j] - ra[j]) * (qa[j] - ra[j]);
                    dot += qa[j] * ra[j];
                    rn += ra[j] * ra[j];
                }
                if (metric == SearchIndex::Metric::Cosine)
                    d = 1 - dot / std::sqrt(qn * rn);
                all.push_back({d, r});
            }
            std::sort(all.begin(), all.end());
            for (int j = 0; j < 5; ++j) {
                CHECK(found[q * 5 + j] == all[j].second);
                CHECK(dist[q * 5 + j] == Approx(all[j].first).margin(1e-3).epsilon(1e-4));
            }
        }
        QTemporaryDir dir;
        index.save(dir.filePath("i.bin").toStdString());
        auto again = SearchIndex::load(dir.filePath("i.bin").toStdString());
        std::vector<float> dist2(40 * 5);
        std::vector<std::int64_t> found2(40 * 5);
        again->search(queries.data_ptr<float>(), 40, 5, dist2.data(), found2.data());
        CHECK(found2 == found);
        CHECK(again->metric() == metric);
    }
}

TEST_CASE("an exact index file whose header announces more rows than it holds is refused before allocating",
          "[search][errors]")
{
    QTemporaryDir dir;
    ExactIndex index(4, SearchIndex::Metric::L2);
    const std::vector<float> rows = {1, 2, 3, 4, 5, 6, 7, 8};
    const std::vector<std::int64_t> ids = {10, 11};
    index.add(rows.data(), 2, ids.data());
    const std::string path = dir.filePath("index.bin").toStdString();
    index.save(path);
    REQUIRE(ExactIndex::read(path)->size() == 2);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    const std::int64_t huge = std::int64_t{1} << 40; // 1e12 rows: would be a 17 TB allocation
    f.seekp(8 + 16);
    f.write(reinterpret_cast<const char *>(&huge), sizeof huge);
    f.close();
    try {
        ExactIndex::read(path);
        FAIL("a damaged index was read");
    } catch (const DataError &e) {
        CHECK(std::string(e.what()).find("truncated or damaged") != std::string::npos);
    }
    QFile::resize(QString::fromStdString(path), 30); // cut inside the header
    CHECK_THROWS_AS(ExactIndex::read(path), DataError);
}
