// The dataset map pipeline (stored features → rows of skipped images dropped → L2 / PCA → t-SNE or UMAP → k-means)
// on a scan of the demo: the rows are the images with features, the PCA keeps the asked size, the map keeps the
// classes apart, clusters come with the finished map; a matrix given directly refuses NaN rows; defaults are one
// set (the CLI help and the Map tab read them).
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/ImageSource.h"
#include "map/DatasetMap.h"
#include "scan/StoredScan.h"
#include "MapTestData.h"
#include "DemoProject.h"
#include "TestPaths.h"

#include <QTemporaryDir>

#include <set>

using namespace convscope;
using namespace maptest;

TEST_CASE("dataset map: a demo layer's stored features to a map that keeps classes apart, in chunks", "[map]")
{
    QTemporaryDir dir;
    const std::string project = dir.filePath("p").toStdString();
    const auto source = testprojects::scanDemo(project, 800).source;

    DatasetMap::Options o;
    o.layer = "fc 1"; // the display name: the same layer as classifier.fc1
    o.pca = 30;
    o.limit = 700;
    o.embedding.tsne.iterations = 400;
    o.clusters = 10;
    DatasetMap map(project, o);
    CHECK(map.source().layer == "classifier.fc1");
    CHECK(map.source().pooling == FeaturePooling::None); // fc is the default for a vector layer
    REQUIRE(map.images().size() == 700);                 // the limit, in dataset order
    CHECK(map.images().front() == 0);
    CHECK(map.images().back() == 699);
    CHECK(map.reduced().sizes() == std::vector<std::int64_t>{700, 30});
    CHECK(map.methodTitle() == "t-SNE");
    CHECK_FALSE(map.embedding().defined()); // nothing before the first run()
    int chunks = 0;
    while (map.run(50))
        ++chunks;
    CHECK(chunks >= 400 / 50);
    CHECK(map.done());
    CHECK(map.step() == 400);
    const torch::Tensor coords = map.embedding();
    REQUIRE(coords.sizes() == std::vector<std::int64_t>{700, 2});
    std::vector<int> labels;
    for (std::int64_t i : map.images())
        labels.push_back(source->label(i));
    CHECK(knnAccuracy(coords, labels) > 0.7); // the demo's fc features separate the classes well
    const torch::Tensor clusters = map.clusters();
    REQUIRE(clusters.numel() == 700);
    CHECK(clusters.min().item<std::int64_t>() == 0);
    CHECK(clusters.max().item<std::int64_t>() == 9);

    // Maps pool as asked; a pooling that does not fit the layer is refused with a message.
    DatasetMap::Options pooled;
    pooled.layer = "features";
    pooled.pooling = FeaturePooling::Max;
    pooled.embedding.method = Embedder::Method::Umap;
    pooled.embedding.umap.epochs = 20;
    DatasetMap umap(project, pooled);
    CHECK(umap.source().pooling == FeaturePooling::Max);
    CHECK(umap.images().size() == 800);
    CHECK(umap.methodTitle() == "UMAP");
    while (umap.run(10)) {
    }
    CHECK(umap.embedding().size(0) == 800);
    CHECK_FALSE(umap.clusters().defined()); // no clustering asked
    DatasetMap::Options wrong;
    wrong.layer = "fc 1";
    wrong.pooling = FeaturePooling::Average;
    CHECK_THROWS_AS(DatasetMap(project, wrong), UsageError);
    CHECK_THROWS_AS(DatasetMap(project, DatasetMap::Options{}), UsageError); // no layer
}

TEST_CASE("dataset map of a matrix: row numbers as images, NaN rows refused", "[map][errors]")
{
    std::vector<int> labels;
    const torch::Tensor x = blobs(300, 12, 3, labels);
    DatasetMap::Options o;
    o.pca = 0;
    o.normalise = false;
    DatasetMap map(x, o);
    REQUIRE(map.images().size() == 300);
    CHECK(map.images()[299] == 299);
    CHECK(torch::allclose(map.reduced(), x)); // no PCA, no normalisation: the features as given
    while (map.run(250)) {
    }
    // The map keeps the neighbourhoods of the input space (about as many 10-NN votes right as there).
    CHECK(knnAccuracy(map.embedding(), labels) > knnAccuracy(x, labels) - 0.05);
    torch::Tensor bad = x.clone();
    bad[7][3] = NAN;
    CHECK_THROWS_AS(DatasetMap(bad, o), UsageError);
    CHECK_THROWS_AS(DatasetMap(torch::zeros({5}), o), UsageError);
}
