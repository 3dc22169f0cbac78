// FAISS HNSW and IVF-PQ recall against the exact index; saved, reloaded and grown.
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

#include <QTemporaryDir>

#include <algorithm>
#include <set>

#include "SearchTestData.h"

using namespace searchtest;
using namespace convscope;

TEST_CASE("FAISS HNSW and IVF-PQ find the exact neighbours, save, reload and grow", "[search][ann]")
{
    const torch::Tensor db = clustered(20000, 32, 200, 8);
    const torch::Tensor queries = clustered(200, 32, 200, 9);
    const auto ids = iota(20000);
    ExactIndex exact(32, SearchIndex::Metric::L2);
    exact.add(db.data_ptr<float>(), 20000, ids.data());
    // The graph is built in parallel, so recall varies a little from run to run: search wide enough for a margin
    // (the speed/recall trade-off at the default effort is measured in tests/bench/SearchBench).
    FaissIndex::Options ho;
    ho.efSearch = 256;
    FaissIndex hnsw(32, SearchIndex::Metric::L2, ho);
    hnsw.add(db.data_ptr<float>(), 15000, ids.data());
    hnsw.add(db[15000].data_ptr<float>(), 5000, ids.data() + 15000); // grows without rebuilding
    REQUIRE(hnsw.size() == 20000);
    CHECK(recallAt10(hnsw, exact, queries) >= 0.95);
    FaissIndex::Options po;
    po.kind = "ivfpq";
    FaissIndex ivfpq(32, SearchIndex::Metric::L2, po);
    ivfpq.add(db.data_ptr<float>(), 20000, ids.data());
    CHECK(recallAt10(ivfpq, exact, queries) >= 0.9);
    QTemporaryDir dir;
    hnsw.save(dir.filePath("h.bin").toStdString());
    auto again = SearchIndex::load(dir.filePath("h.bin").toStdString());
    CHECK(again->kind() == "hnsw");
    CHECK(recallAt10(*again, exact, queries) >= 0.95);
    CHECK_THROWS_AS(FaissIndex(32, SearchIndex::Metric::L1, FaissIndex::Options{}), UsageError);
}

TEST_CASE("FAISS IVF-PQ refuses too few training points with a message, and leaks nothing", "[search][ann][errors]")
{
    // 100 points cannot train 256 product-quantiser centroids: FAISS throws inside training. The sanitizer run
    // (packaging/run-sanitizers.sh) reports a leak here if the half-built index is not freed.
    const torch::Tensor few = clustered(100, 16, 5, 3);
    const auto ids = iota(100);
    for (int refine : {0, 2}) {
        FaissIndex::Options o;
        o.kind = "ivfpq";
        o.refine = refine;
        FaissIndex ivfpq(16, SearchIndex::Metric::L2, o);
        try {
            ivfpq.add(few.data_ptr<float>(), 100, ids.data());
            FAIL("training on 100 points should fail");
        } catch (const UsageError &e) {
            CHECK(std::string(e.what()).find("cannot build the approximate index") == 0);
        }
        CHECK(ivfpq.size() == 0);
    }
}
