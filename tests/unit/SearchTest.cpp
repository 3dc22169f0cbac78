// Similar-image search: the descriptor pipeline's PCA (distance-preserving rotation, whitening, explained
// variance, skipped rows), the exact index against plain brute force (L2, L1, cosine; saved and reloaded; grown),
// FAISS HNSW and IVF-PQ recall against the exact index, the retrieval scores on a hand-computed case, and a
// descriptor index of the demo grown with new images without rebuilding.
#include "CatchTorch.h"

#include "DescriptorIndex.h"
#include "DescriptorPipeline.h"
#include "Error.h"
#include "ExactIndex.h"
#include "FaissIndex.h"
#include "ImageSource.h"
#include "Preprocessor.h"
#include "RetrievalEvaluator.h"
#include "StoredScan.h"
#include "TestPaths.h"

#include <QTemporaryDir>

#include <algorithm>
#include <set>

using namespace convscope;

namespace {

/// Points around `clusters` random centres (a structure like real descriptors have), N×d.
torch::Tensor clustered(std::int64_t n, std::int64_t d, int clusters, std::uint64_t seed)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const torch::Tensor centres = torch::randn({clusters, d}, gen);
    const torch::Tensor which = torch::randint(clusters, {n}, gen);
    return (centres.index_select(0, which) + 0.35 * torch::randn({n, d}, gen)).contiguous();
}

std::vector<std::int64_t> iota(std::int64_t n)
{
    std::vector<std::int64_t> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
}

double recallAt10(const SearchIndex &approx, const SearchIndex &exact, const torch::Tensor &queries)
{
    const std::int64_t nq = queries.size(0);
    std::vector<float> d1(nq * 10), d2(nq * 10);
    std::vector<std::int64_t> i1(nq * 10), i2(nq * 10);
    approx.search(queries.data_ptr<float>(), nq, 10, d1.data(), i1.data());
    exact.search(queries.data_ptr<float>(), nq, 10, d2.data(), i2.data());
    std::int64_t hits = 0;
    for (std::int64_t q = 0; q < nq; ++q) {
        std::set<std::int64_t> truth(i2.begin() + q * 10, i2.begin() + q * 10 + 10);
        for (int j = 0; j < 10; ++j)
            hits += truth.count(i1[q * 10 + j]);
    }
    return static_cast<double>(hits) / static_cast<double>(nq * 10);
}

} // namespace

TEST_CASE("descriptor PCA: rotation keeps distances, whitening decorrelates, NaN rows are skipped", "[search]")
{
    torch::Tensor x = clustered(500, 24, 5, 3);
    x[7].fill_(NAN); // a skipped image
    DescriptorPipeline::Options o;
    o.pca = 24; // a full rotation
    o.renormalise = false;
    DescriptorPipeline full(o);
    full.fit(x);
    const torch::Tensor t = full.transform(x);
    CHECK(t.size(1) == 24);
    CHECK(t[7].isnan().all().item<bool>());
    const torch::Tensor n = x / x.norm(2, 1, true); // what the pipeline rotates
    const std::vector<std::int64_t> a{0, 1, 2, 100}, b{3, 50, 499, 200};
    for (size_t i = 0; i < a.size(); ++i)
        CHECK((t[a[i]] - t[b[i]]).norm().item<double>() ==
              Approx((n[a[i]] - n[b[i]]).norm().item<double>()).epsilon(1e-4));
    const torch::Tensor ev = full.explainedVariance();
    CHECK(ev[-1].item<double>() == Approx(1.0).epsilon(1e-5));
    CHECK((ev.slice(0, 1) - ev.slice(0, 0, -1)).min().item<double>() >= -1e-6); // cumulative
    // Whitened components: unit variance, uncorrelated (on the rows the PCA learned from).
    o.pca = 8;
    o.whiten = true;
    DescriptorPipeline white(o);
    white.fit(x);
    const torch::Tensor keep = torch::cat({torch::arange(0, 7), torch::arange(8, 500)});
    const torch::Tensor w = white.transform(x).index_select(0, keep);
    const torch::Tensor c = w.t().mm(w - w.mean(0)) / (w.size(0) - 1);
    CHECK((c - torch::eye(8)).abs().max().item<double>() < 1e-3);
    // Default: 128 → capped at the feature size; re-normalised rows.
    DescriptorPipeline def;
    def.fit(x);
    CHECK(def.outputDims() == 24);
    CHECK(def.transform(x)[0].norm().item<double>() == Approx(1.0));
    QTemporaryDir dir;
    white.save(dir.path().toStdString());
    const DescriptorPipeline again = DescriptorPipeline::load(dir.path().toStdString());
    CHECK(torch::equal(again.transform(x).nan_to_num(), white.transform(x).nan_to_num()));
    CHECK_THROWS_AS(white.transform(torch::zeros({2, 5})), UsageError);
}

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

TEST_CASE("retrieval scores: mAP and precision@k on a hand-computed case", "[search]")
{
    // 1-D descriptors 0, 3, 1, 10 with labels 0, 0, 1, 1. Rankings (leave-one-out):
    //   q0: 1(l1) 3(l0) 10  -> AP 1/2     q1: 1(l1) 0(l0) 10 -> AP 1/2
    //   q2: 0 3 10(l1)      -> AP 1/3     q3: 3 1(l1) 0      -> AP 1/2
    const torch::Tensor x = torch::tensor({0.0f, 3.0f, 1.0f, 10.0f}).unsqueeze(1);
    RetrievalEvaluator::Options o;
    o.precisionAt = 10; // capped at the 3 other images
    const auto r = RetrievalEvaluator({0, 0, 1, 1}, o).evaluate(x);
    CHECK(r.map == Approx((0.5 + 0.5 + 1.0 / 3 + 0.5) / 4));
    CHECK(r.precisionAtK == Approx(1.0 / 3));
    CHECK(r.queries == 4);
    // Unlabelled images are left out; a NaN row too.
    const torch::Tensor y = torch::tensor({0.0f, 3.0f, 1.0f, 10.0f, 5.0f, NAN}).unsqueeze(1);
    CHECK(RetrievalEvaluator({0, 0, 1, 1, -1, 0}, o).evaluate(y).map == Approx(r.map));
}

TEST_CASE("a demo descriptor index grows with new images without rebuilding", "[search]")
{
    QTemporaryDir dir;
    const std::string project = dir.filePath("p").toStdString();
    const std::string data = testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz";
    auto model = Model::load(testpaths::demoModel());
    std::shared_ptr<const ImageSource> source(ImageSource::open(data));
    StoredScan::Options so;
    so.project = project;
    so.scan.limit = 300;
    StoredScan scan(model, source, data, so);
    while (scan.run(4)) {
    }
    DescriptorIndex::Options o;
    o.layer = "classifier.fc1";
    o.pooling = DescriptorIndex::Pooling::Flatten;
    o.pipeline.pca = 64;
    DescriptorIndex index = DescriptorIndex::build(project, o);
    REQUIRE(index.size() == 300);
    CHECK_THROWS_AS(DescriptorIndex::build(project, [] {
                        DescriptorIndex::Options bad;
                        bad.layer = "classifier.fc1";
                        bad.pooling = DescriptorIndex::Pooling::Max;
                        return bad;
                    }()),
                    UsageError);
    // Images 300..349, described by the same model, added later.
    const Preprocessor pre(model->input());
    std::vector<torch::Tensor> inputs;
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 300; i < 350; ++i) {
        inputs.push_back(pre.tensor(source->image(i)));
        ids.push_back(i);
    }
    const torch::Tensor raw = index.rawFeatures(*model, torch::stack(inputs));
    index.add(raw, ids);
    const DescriptorIndex reopened = DescriptorIndex::open(project);
    REQUIRE(reopened.size() == 350);
    const auto hits = reopened.search(raw[20], 3);
    CHECK(hits[0][0].image == 320); // finds itself first
    CHECK(hits[0][0].distance < 1e-4);
    // The stored features of a scanned image equal what the model computes for it now.
    const torch::Tensor stored = reopened.datasetFeatures()[5];
    const torch::Tensor now = reopened.rawFeatures(*model, pre.tensor(source->image(5)).unsqueeze(0))[0];
    CHECK((stored - now).abs().max().item<double>() < 1e-4);
}
