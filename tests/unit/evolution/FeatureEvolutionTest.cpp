// CheckpointSeries and FeatureEvolution on the demo's shipped checkpoints (random initialisation, epochs 1, 2, 4, 9):
// order and labels, the layer check, stability equal to a brute-force top-k overlap computed from the probe's
// activations, lower layers settling first, and the units × checkpoints figure.
#include "common/Error.h"
#include "data/BatchReader.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "evolution/CheckpointSeries.h"
#include "evolution/FeatureEvolution.h"
#include "model/Model.h"

#include "CatchTorch.h"
#include "TestPaths.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <set>

using namespace convscope;

namespace {

std::string demoDir() { return testpaths::source() + "/resources/demo"; }
std::string checkpoint(int epoch)
{
    char name[64];
    std::snprintf(name, sizeof name, "/checkpoints/fashion_cnn_epoch%02d.pt", epoch);
    return demoDir() + name;
}
std::string testSet() { return testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz"; }

/// Top-k distinct images of every unit of `layer` over the first `n` test images, by spatial maximum; when the k-th
/// value is 0 or tied with another of the k, the images at that value are left out.
std::vector<std::vector<std::int64_t>> bruteForceTop(const Model &model, const std::string &layer, int n, int k,
                                                     std::vector<float> &best)
{
    std::unique_ptr<ImageSource> source(ImageSource::open(testSet()));
    BatchReader reader(*source, Preprocessor(model.input()));
    const int call = model.layer(layer).index;
    std::vector<torch::Tensor> maxima;
    for (int first = 0; first < n; first += 500) {
        const Batch b = reader.read(first, std::min(500, n - first), 1);
        maxima.push_back(model.probe().run(b.input, {call}).captured.at(0).flatten(2).amax(2));
    }
    const torch::Tensor m = torch::cat(maxima).t().contiguous(); // units × images
    std::vector<std::vector<std::int64_t>> top;
    best.clear();
    for (int64_t u = 0; u < m.size(0); ++u) {
        const torch::Tensor order = std::get<1>(m[u].sort(/*stable=*/true, 0, /*descending=*/true));
        std::vector<std::int64_t> images;
        const float kth = m[u][order[k - 1].item<std::int64_t>()].item<float>();
        int ties = 0;
        for (int j = 0; j < k; ++j)
            ties += m[u][order[j].item<std::int64_t>()].item<float>() == kth;
        for (int j = 0; j < k; ++j) {
            const std::int64_t image = order[j].item<std::int64_t>();
            if ((kth != 0 && ties == 1) || m[u][image].item<float>() > kth)
                images.push_back(image);
        }
        top.push_back(images);
        best.push_back(m[u].max().item<float>());
    }
    return top;
}

} // namespace

TEST_CASE("checkpoint series: labels, natural order, the demo's checkpoints and the layer check", "[evolution]")
{
    CHECK(CheckpointSeries::labelFor("/x/fashion_cnn_epoch04.pt") == "epoch 4");
    CHECK(CheckpointSeries::labelFor("model_step1200.pt") == "step 1200");
    CHECK(CheckpointSeries::labelFor("resnet-e10.onnx") == "epoch 10");
    CHECK(CheckpointSeries::labelFor("final.pt") == "final");
    CHECK(CheckpointSeries::labelFor("net_state_5.pt") == "net_state_5");
    CHECK(CheckpointSeries::labelFor("size_1024.pt") == "size_1024");
    CHECK(CheckpointSeries::labelFor("e7.pt") == "epoch 7");

    QTemporaryDir dir;
    for (const char *name : {"run_epoch10.pt", "run_epoch2.pt", "run_epoch1.pt", "notes.txt"})
        REQUIRE(QFile::copy(QString::fromStdString(checkpoint(0)), dir.filePath(name)));
    const auto folder = CheckpointSeries::fromFolder(dir.path().toStdString());
    REQUIRE(folder.size() == 3);
    CHECK(folder.checkpoints()[0].label == "epoch 1");
    CHECK(folder.checkpoints()[1].label == "epoch 2");
    CHECK(folder.checkpoints()[2].label == "epoch 10");
    CHECK(CheckpointSeries::byName({"b/e10.pt", "a/e9.pt"}).front() == "a/e9.pt");
    REQUIRE(QFile::copy(QString::fromStdString(checkpoint(0)), dir.filePath("other_model.pt")));
    const auto siblings = CheckpointSeries::siblingsOf(dir.filePath("run_epoch2.pt").toStdString());
    REQUIRE(siblings.size() == 3); // other_model.pt is not one of them
    CHECK(siblings.checkpoints()[2].label == "epoch 10");
    CHECK_THROWS_AS(CheckpointSeries::siblingsOf(dir.filePath("other_model.pt").toStdString()), UsageError);
    CHECK_THROWS_AS(CheckpointSeries::fromFiles({checkpoint(0)}), UsageError);
    CHECK_THROWS_AS(CheckpointSeries::fromFiles({checkpoint(0), "/nonexistent.pt"}), IoError);
    CHECK_THROWS_AS(CheckpointSeries::fromFolder("/nonexistent"), IoError);

    // The demo's series lies beside the demo model; its last checkpoint is the demo model itself.
    const auto demo = CheckpointSeries::besideModel(testpaths::demoModel());
    REQUIRE(demo.size() == 5);
    std::vector<std::string> labels;
    for (const auto &c : demo.checkpoints())
        labels.push_back(c.label);
    CHECK(labels == std::vector<std::string>{"epoch 0", "epoch 1", "epoch 2", "epoch 4", "epoch 9"});
    CHECK(demo.indexOf(testpaths::demoModel()) == 4);
    CHECK(demo.indexOf(checkpoint(2)) == 2);
    CHECK(demo.indexOf(demoDir() + "/fashion_mobile.pt") == -1);
    CHECK(CheckpointSeries::besideModel(demoDir() + "/fashion_mobile.pt").size() == 0);

    auto cnn = Model::load(testpaths::demoModel());
    CHECK_NOTHROW(CheckpointSeries::checkSameLayers(*cnn, *Model::load(checkpoint(0)), "epoch 0"));
    CHECK_THROWS_AS(CheckpointSeries::checkSameLayers(*cnn, *Model::load(demoDir() + "/fashion_mobile.pt"), "x"),
                    DataError);
}

TEST_CASE("feature evolution of the demo: stability equals brute-force top-9 overlaps, lower layers settle first",
          "[evolution]")
{
    QTemporaryDir dir;
    FeatureEvolution::Options o;
    o.project = dir.filePath("project").toStdString();
    o.scan.limit = 2000;
    o.scan.noFeatures = true;
    FeatureEvolution e(CheckpointSeries::besideModel(testpaths::demoModel()), testSet(), o);
    double last = -1;
    while (!e.run()) {
        CHECK(e.fraction() >= last);
        last = e.fraction();
    }
    CHECK(e.fraction() == 1.0);
    REQUIRE(e.scanIds().size() == 5);
    const auto &s = e.stability();
    REQUIRE(s.size() >= 4);
    for (const auto &l : s) {
        REQUIRE(l.consecutive.size() == 4);
        REQUIRE(l.toFinal.size() == 5);
        CHECK(l.toFinal.back() == 1.0);
        for (double v : l.consecutive) {
            CHECK(v >= 0.0);
            CHECK(v <= 1.0);
        }
        std::printf("%-20s kept:", l.layer.c_str());
        for (double v : l.consecutive)
            std::printf(" %.2f", v);
        std::printf("  with last:");
        for (double v : l.toFinal)
            std::printf(" %.2f", v);
        std::printf("\n");
    }

    // Brute force on one layer and one transition (epoch 2 → epoch 4): top-9 distinct images by spatial maximum
    // from the probe's activations, those with a positive response, mean overlap (over the larger set) over units
    // that fire at both.
    const std::string layer = s[1].layer;
    std::vector<float> bestA, bestB;
    const auto &paths = e.series().checkpoints();
    const auto a = bruteForceTop(*Model::load(paths[2].path), layer, 2000, 9, bestA);
    const auto b = bruteForceTop(*Model::load(paths[3].path), layer, 2000, 9, bestB);
    double sum = 0;
    int compared = 0;
    for (size_t u = 0; u < a.size(); ++u) {
        if (a[u].empty() || b[u].empty())
            continue;
        const std::set<std::int64_t> sa(a[u].begin(), a[u].end());
        int common = 0;
        for (auto i : b[u])
            common += static_cast<int>(sa.count(i));
        sum += common / static_cast<double>(std::max(a[u].size(), b[u].size()));
        ++compared;
    }
    CHECK(s[1].compared[2] == compared);
    CHECK(s[1].consecutive[2] == Approx(sum / compared).margin(0.01));

    // Training settles: the last transition keeps more than the first, in every layer; and the lowest layer has
    // settled more than the highest by epoch 2 (shares of its top images already those of the end).
    for (const auto &l : s)
        CHECK(l.consecutive.back() > l.consecutive.front());
    CHECK(s.front().toFinal[2] > s.back().toFinal[2]);

    // The figure: units × checkpoints, mosaics or strongest patches.
    const auto units = e.strongestUnits(layer, 3);
    REQUIRE(units.size() == 3);
    const TileSet mosaics = e.figure(layer, units);
    CHECK(mosaics.count() == 15);
    CHECK(mosaics.columns == 5);
    CHECK(mosaics.values.size(1) == 3);
    CHECK(mosaics.captions.at(5) == "unit " + std::to_string(units[1]) + " · epoch 0");
    CHECK(mosaics.captions.at(6) == "epoch 1");
    const TileSet patches = e.figure(layer, {0, 1}, false);
    CHECK(patches.count() == 10);
    CHECK(patches.values.size(2) < mosaics.values.size(2));
    CHECK_THROWS_AS(e.figure(layer, {100000}), UsageError);
    CHECK_THROWS_AS(e.figure("no.such.layer", {0}), UsageError);

    // Running again reuses every stored scan.
    FeatureEvolution again(CheckpointSeries::besideModel(testpaths::demoModel()), testSet(), o);
    int steps = 0;
    while (!again.run())
        ++steps;
    CHECK(steps == 4); // one step per checkpoint, nothing scanned
    CHECK(again.scanIds() == e.scanIds());
}

TEST_CASE("feature evolution refuses checkpoints of different architectures", "[evolution]")
{
    QTemporaryDir dir;
    FeatureEvolution::Options o;
    o.project = dir.filePath("project").toStdString();
    o.scan.limit = 64;
    o.scan.noFeatures = true;
    FeatureEvolution e(CheckpointSeries::fromFiles({testpaths::demoModel(), demoDir() + "/fashion_mobile.pt"}),
                       testSet(), o);
    try {
        while (!e.run()) {
        }
        FAIL("no error");
    } catch (const DataError &error) {
        CHECK(std::string(error.what()).find("fashion_mobile") != std::string::npos);
    }
}
