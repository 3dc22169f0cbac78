// UMAP: the curve and the fuzzy graph equal umap-learn's (fixture made with Debian's umap-learn), the layout separates
// clusters, is reproducible with any thread count, and maps to 3-D.
#include "CatchTorch.h"

#include "map/Embedder.h"
#include "common/Error.h"
#include "MapTestData.h"
#include "common/NpyFile.h"
#include "TestPaths.h"
#include "map/Umap.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <ATen/Parallel.h>

using namespace convscope;
using namespace maptest;

TEST_CASE("UMAP's curve and fuzzy graph equal umap-learn's", "[map]")
{
    const std::string dir = testpaths::fixtures() + "/umap/";
    QFile f(QString::fromStdString(dir + "curve.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    const QJsonObject curve = QJsonDocument::fromJson(f.readAll()).object();
    const auto [a, b] = Umap::fitCurve(1.0, 0.1);
    CHECK(a == Approx(curve["a"].toDouble()).epsilon(2e-3));
    CHECK(b == Approx(curve["b"].toDouble()).epsilon(2e-3));

    const torch::Tensor x = NpyFile::read(dir + "x.npy");
    const torch::Tensor reference = NpyFile::read(dir + "graph.npy");
    Umap::Options o;
    o.epochs = 500;
    const Umap umap(x, o);
    // Edges weaker than max / epochs are pruned before the layout, as umap-learn does.
    const double floor = reference.max().item<double>() / 500;
    double worst = 0;
    std::int64_t compared = 0, pruned = 0;
    for (std::int64_t i = 0; i < x.size(0); ++i)
        for (std::int64_t j = 0; j < x.size(0); ++j) {
            const double want = reference[i][j].item<float>();
            if (want >= floor * 1.001) {
                worst = std::max(worst, std::abs(umap.weight(i, j) - want));
                ++compared;
            } else if (want < floor * 0.999) {
                CHECK(umap.weight(i, j) == 0.0);
                pruned += want > 0 ? 1 : 0;
            }
        }
    CHECK(compared > 4000);
    CHECK(worst < 1e-4);
    CHECK(umap.edges() >= compared);
}

TEST_CASE("UMAP separates clusters, reproducibly with 1 or 2 threads, in 2-D and 3-D", "[map]")
{
    std::vector<int> labels;
    const torch::Tensor x = blobs(1500, 20, 6, labels);
    Umap::Options o;
    o.epochs = 200;
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    Umap one(x, o);
    one.run(200);
    at::set_num_threads(std::max(2, threads));
    Umap two(x, o);
    while (!two.done())
        two.run(37); // chunks do not change the result
    at::set_num_threads(threads);
    REQUIRE(one.done());
    const torch::Tensor y = two.embedding();
    CHECK(torch::equal(one.embedding(), y));
    CHECK(knnAccuracy(y, labels) > 0.97);
    CHECK(y.isfinite().all().item<bool>());

    o.dimensions = 3;
    o.epochs = 100;
    Umap three(x, o);
    three.run(100);
    CHECK(three.embedding().size(1) == 3);
    CHECK(knnAccuracy(three.embedding(), labels) > 0.97);
    o.seed = 7;
    Umap other(x, o);
    other.run(100);
    CHECK_FALSE(torch::equal(other.embedding(), three.embedding())); // the seed matters

    CHECK_THROWS_AS(Umap(torch::zeros({3, 5}), o), UsageError);
    o.dimensions = 4;
    CHECK_THROWS_AS(Umap(x, o), UsageError);
}
