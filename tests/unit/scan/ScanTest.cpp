// The dataset scan's top-k selections equal a straightforward PyTorch reference (forward hooks + ranking) on the
// demo model and the first 500 Fashion-MNIST test images.
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "scan/PatchExtractor.h"
#include "scan/Scan.h"
#include "TestPaths.h"

#include <ATen/Parallel.h>

#include <cstring>
#include <map>
#include <set>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace convscope;

namespace {

/// Runs LibTorch on one thread while alive (the references were computed on one).
struct OneThread {
    int saved = at::get_num_threads();
    OneThread() { at::set_num_threads(1); }
    ~OneThread() { at::set_num_threads(saved); }
};

/// Checks every layer's top-k (by max: image, position, value; by mean: image, value) against a reference written
/// by the fixture scripts; returns the number of entries compared.
size_t compareWithReference(const Model &model, const Scan &scan, const QJsonObject &layers)
{
    size_t compared = 0;
    for (const auto &result : scan.layers()) {
        const std::string path = model.layers()[result.layer].path;
        const QJsonObject expected = layers[QString::fromStdString(path)].toObject();
        const QJsonArray byMax = expected["max"].toArray(), byMean = expected["mean"].toArray();
        REQUIRE(byMax.size() == result.byMax.channels());
        for (int c = 0; c < byMax.size(); ++c) {
            INFO(path << " channel " << c);
            const auto ours = result.byMax.top(c), oursMean = result.byMean.top(c);
            REQUIRE(ours.size() == static_cast<size_t>(byMax[c].toArray().size()));
            REQUIRE(oursMean.size() == static_cast<size_t>(byMean[c].toArray().size()));
            for (size_t j = 0; j < ours.size(); ++j) {
                const QJsonArray e = byMax[c].toArray()[static_cast<int>(j)].toArray();
                CHECK(ours[j].image == e[0].toInt());
                CHECK(ours[j].y == e[1].toInt());
                CHECK(ours[j].x == e[2].toInt());
                CHECK(ours[j].value == Approx(e[3].toDouble()).margin(1e-4));
                const QJsonArray m = byMean[c].toArray()[static_cast<int>(j)].toArray();
                CHECK(oursMean[j].image == m[0].toInt());
                CHECK(oursMean[j].value == Approx(m[1].toDouble()).margin(1e-4));
                ++compared;
            }
        }
    }
    return compared;
}

} // namespace

TEST_CASE("scan: top-9 from distinct images equals the PyTorch reference", "[scan]")
{
    QFile f(QString::fromStdString(testpaths::fixtures() + "/demo/scan_reference.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    const QJsonObject ref = QJsonDocument::fromJson(f.readAll()).object();
    const QJsonObject layers = ref["layers"].toObject();

    OneThread oneThread; // the reference ran on one thread: same kernels, same bits
    auto model = Model::load(testpaths::demoModel());
    auto source = ImageSource::open(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz");
    Scan::Options o;
    o.layers = {"features.conv1", "features.conv3", "features"};
    o.k = ref["k"].toInt();
    o.batchSize = ref["batch"].toInt();
    o.limit = ref["count"].toInt();
    Scan scan(model, *source, o);
    std::vector<int> predicted(500, -1);
    scan.setBatchSink([&](const ScanBatch &b) {
        for (size_t i = 0; i < b.indices.size(); ++i)
            predicted[static_cast<size_t>(b.indices[i])] = b.predicted[i];
    });
    int rounds = 0;
    while (scan.run(1))
        ++rounds;
    CHECK(rounds >= 9);
    CHECK(scan.done() == 500);
    CHECK(scan.skipped().empty());
    REQUIRE(scan.layers().size() == 3);

    CHECK(compareWithReference(*model, scan, layers) == (32 + 64 + 128) * 9);
    // Predictions for every scanned image.
    int correct = 0;
    for (int64_t i = 0; i < 500; ++i)
        correct += predicted[static_cast<size_t>(i)] == source->label(i);
    CHECK(correct > 450);
    CHECK(scan.labelled() == 500);
    CHECK(scan.correct() == correct);
}

TEST_CASE("scan: default layers, bad layers, broken images", "[scan]")
{
    auto model = Model::load(testpaths::demoModel());
    const auto defaults = Scan::defaultLayers(*model);
    REQUIRE(defaults.size() == 5); // conv1..conv4 and the features block
    auto folder = ImageSource::open(testpaths::fixtures() + "/images/bad");
    Scan::Options o;
    Scan scan(model, *folder, o);
    while (scan.run(1)) {
    }
    CHECK(scan.done() == 4);
    CHECK(scan.skipped().size() >= 2);
    o.layers = {"nope"};
    auto source = ImageSource::open(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz");
    CHECK_THROWS_AS(Scan(model, *source, o), UsageError);
}

TEST_CASE("scan: fully connected outputs are ranked as 1×1 maps, equal to a brute-force ranking", "[scan]")
{
    auto model = Model::load(testpaths::demoModel());
    auto source = ImageSource::open(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz");
    Scan::Options o;
    o.layers = {"classifier.drop1"};
    o.limit = 300;
    o.batchSize = 64;
    o.noFeatures = true;
    Scan scan(model, *source, o);
    while (scan.run(1)) {
    }
    REQUIRE(scan.layers().size() == 1);
    const auto &result = scan.layers()[0];

    // The same layer's outputs for the same images, one batch of all 300, ranked per unit by plain sorting.
    const int layer = model->layer("classifier.drop1").index;
    Preprocessor pre(model->input());
    std::vector<torch::Tensor> inputs;
    for (std::int64_t i = 0; i < 300; ++i)
        inputs.push_back(pre.normalise(pre.fit(source->image(i))));
    const torch::Tensor out = model->probe().run(torch::stack(inputs), {layer}).captured[0].reshape({300, -1});
    REQUIRE(result.byMax.channels() == out.size(1));
    REQUIRE(out.size(1) > 1);
    for (std::int64_t c = 0; c < out.size(1); ++c) {
        INFO("unit " << c);
        const auto ours = result.byMax.top(c), oursMean = result.byMean.top(c);
        REQUIRE(ours.size() == 9);
        const auto sorted = out.select(1, c).sort(0, /*descending=*/true);
        const torch::Tensor values = std::get<0>(sorted), order = std::get<1>(sorted);
        for (size_t j = 0; j < ours.size(); ++j) {
            // A 1×1 map: the position is (0, 0), and its maximum and mean are the unit's value.
            CHECK(ours[j].y == 0);
            CHECK(ours[j].x == 0);
            CHECK(ours[j].value == Approx(values[static_cast<int64_t>(j)].item<float>()).epsilon(1e-4).margin(1e-4));
            CHECK(oursMean[j].value == Approx(ours[j].value).margin(1e-6));
        }
        // Images equal the sort's unless two values tie within float noise.
        const float gap = (values.narrow(0, 0, 9) - values.narrow(0, 1, 9)).abs().min().item<float>();
        if (gap > 1e-3f)
            for (size_t j = 0; j < ours.size(); ++j)
                CHECK(ours[j].image == order[static_cast<int64_t>(j)].item<std::int64_t>());
    }
}

TEST_CASE("scan: ResNet-18 over a photo folder selects what the PyTorch reference selects", "[scan]")
{
    QFile f(QString::fromStdString(testpaths::fixtures() + "/photos64_reference.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    const QJsonObject ref = QJsonDocument::fromJson(f.readAll()).object();
    OneThread oneThread;
    auto model = Model::load(testpaths::fixtures() + "/resnet18.scripted.pt",
                             Model::Options{testpaths::fixtures() + "/photos64.json"});
    auto source = ImageSource::open(testpaths::fixtures() + "/photos64");
    const QJsonArray names = ref["images"].toArray();
    REQUIRE(source->size() == names.size());
    for (int i = 0; i < names.size(); ++i)
        REQUIRE(source->name(i).find(names[i].toString().toStdString()) != std::string::npos);
    const QJsonObject layers = ref["layers"].toObject();
    Scan::Options o;
    for (const QString &l : layers.keys())
        o.layers.push_back(l.toStdString());
    o.k = ref["k"].toInt();
    o.batchSize = 5; // another split than the reference's: the selection must not depend on it
    Scan scan(model, *source, o);
    while (scan.run(1)) {
    }
    REQUIRE(scan.skipped().empty());
    const size_t compared = compareWithReference(*model, scan, layers);
    CHECK(compared > 1000);
}

TEST_CASE("scan: a BGR model selects what its RGB twin's PyTorch reference selects", "[scan][inputspec]")
{
    // resnet18_bgr: resnet18 with conv1 reading its planes in reverse, sidecar "channel_order": "bgr" with the mean
    // and std reversed (tests/fixtures/make_models.py). Fed blue first it computes what resnet18 computes on RGB,
    // so the photo folder's reference holds for it; fed RGB it would select other images.
    QFile f(QString::fromStdString(testpaths::fixtures() + "/photos64_reference.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    const QJsonObject ref = QJsonDocument::fromJson(f.readAll()).object();
    OneThread oneThread;
    auto model = Model::load(testpaths::fixtures() + "/resnet18_bgr.scripted.pt",
                             Model::Options{testpaths::fixtures() + "/photos64_bgr.json"});
    REQUIRE(model->input().order == ChannelOrder::Bgr);
    auto source = ImageSource::open(testpaths::fixtures() + "/photos64");
    const QJsonObject layers = ref["layers"].toObject();
    Scan::Options o;
    for (const QString &l : layers.keys())
        o.layers.push_back(l.toStdString());
    o.k = ref["k"].toInt();
    o.batchSize = 7;
    Scan scan(model, *source, o);
    while (scan.run(1)) {
    }
    REQUIRE(scan.skipped().empty());
    CHECK(compareWithReference(*model, scan, layers) > 1000);
}

TEST_CASE("scan: a folder of odd and broken files finishes, skips the broken with reasons, uses the odd", "[scan][errors]")
{
    auto model = Model::load(testpaths::fixtures() + "/resnet18.scripted.pt",
                             Model::Options{testpaths::fixtures() + "/photos64.json"});
    auto source = ImageSource::open(testpaths::fixtures() + "/images/zoo");
    REQUIRE(source->size() == 14);
    Scan::Options o;
    o.layers = {"layer1"};
    o.batchSize = 4;
    Scan scan(model, *source, o);
    std::map<std::string, int> used;
    scan.setBatchSink([&](const ScanBatch &b) {
        for (size_t i = 0; i < b.indices.size(); ++i) {
            std::string name = source->name(b.indices[i]);
            used[name.substr(name.rfind('/') + 1)] = b.predicted[i];
        }
    });
    while (scan.run(1)) {
    }
    CHECK(scan.done() == 14);
    std::set<std::string> skipped;
    for (const auto &s : scan.skipped()) {
        skipped.insert(s.name.substr(s.name.rfind('/') + 1));
        CHECK_FALSE(s.reason.empty());
    }
    CHECK(skipped == std::set<std::string>{"bad_crc.png", "bad_empty.jpg", "bad_text.jpg", "bad_truncated.jpg",
                                           "bad_truncated.png"});
    // The odd-but-valid ones went through the model: CMYK, 16-bit, RGBA, EXIF-rotated, 1×1 and 20000×20000.
    for (const char *name : {"d_cmyk.jpg", "h16.png", "c_rgba.png", "e_exif.jpg", "one_pixel.png", "huge_20000.png"}) {
        INFO(name);
        REQUIRE(used.count(name));
        // The scan's batched prediction is the model's prediction for the image decoded on its own.
        std::int64_t index = -1;
        for (std::int64_t i = 0; i < source->size(); ++i)
            if (source->name(i).size() >= std::strlen(name) &&
                source->name(i).compare(source->name(i).size() - std::strlen(name), std::string::npos, name) == 0)
                index = i;
        REQUIRE(index >= 0);
        Preprocessor pre(model->input());
        const torch::Tensor x = pre.normalise(pre.fit(source->image(index))).unsqueeze(0);
        CHECK(used[name] == model->predict(x, 1)[0][0].classIndex);
    }
    // The 20000×20000 vertical ramp, as the model sees it (64×64): black on top, white at the bottom, rising.
    std::int64_t huge = -1;
    for (std::int64_t i = 0; i < source->size(); ++i)
        if (source->name(i).find("huge_20000.png") != std::string::npos)
            huge = i;
    REQUIRE(huge >= 0);
    PatchExtractor patches(*source, Preprocessor(model->input()));
    const torch::Tensor seen = patches.whole(huge);
    REQUIRE(seen.sizes() == std::vector<int64_t>{3, 64, 64});
    const torch::Tensor rows = seen[0].mean(1);
    CHECK(rows[0].item<float>() < 0.02f);
    CHECK(rows[63].item<float>() > 0.98f);
    CHECK((rows.narrow(0, 1, 63) - rows.narrow(0, 0, 63)).min().item<float>() > 0.0f);
}
