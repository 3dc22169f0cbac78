// UnitSynthesizer and FourierImage: the loss and its gradient against PyTorch (make_synthesis_reference.py), and
// what the images do on the demo model: excite their unit more than its best dataset image, and more than the
// images made for the other units.
#include "common/Error.h"
#include "common/NpyFile.h"
#include "common/Progress.h"
#include "data/BatchReader.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "explain/FourierImage.h"
#include "explain/UnitSynthesizer.h"
#include "model/Model.h"

#include "CatchTorch.h"
#include "TestPaths.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

using namespace convscope;

namespace {

std::string synthesisDir() { return testpaths::fixtures() + "/synthesis"; }

QJsonObject referenceCases()
{
    QFile f(QString::fromStdString(synthesisDir() + "/cases.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    return QJsonDocument::fromJson(f.readAll()).object();
}

std::array<float, 9> colourOf(const QJsonArray &a)
{
    std::array<float, 9> c{};
    for (int i = 0; i < 9; ++i)
        c[static_cast<size_t>(i)] = static_cast<float>(a.at(i).toDouble());
    return c;
}

} // namespace

TEST_CASE("the natural colour matrix is the scikit-image photos' one, and colourCorrelationOf computes it",
          "[synthesis]")
{
    const QJsonArray natural = referenceCases().value("natural_colour").toArray();
    const auto ours = FourierImage::naturalColourCorrelation();
    for (int i = 0; i < 9; ++i)
        CHECK(ours[static_cast<size_t>(i)] == Approx(natural.at(i).toDouble()).margin(1e-4));
    // A known covariance: pixels along two axes with variances 4 and 1 → columns of norm 1 and 1/2.
    torch::manual_seed(3);
    const torch::Tensor z = torch::randn({20000, 3}, torch::kFloat64) * torch::tensor({2.0, 1.0, 0.0}, torch::kFloat64);
    const auto m = FourierImage::colourCorrelationOf(z.to(torch::kFloat32));
    const torch::Tensor root = torch::tensor(std::vector<float>(m.begin(), m.end())).view({3, 3});
    const torch::Tensor norms = root.norm(2, {0});
    CHECK(norms.max().item<float>() == Approx(1.0f).margin(1e-5));
    const torch::Tensor sorted = std::get<0>(norms.sort());
    CHECK(sorted[1].item<float>() == Approx(0.5f).margin(0.02));
    CHECK(sorted[0].item<float>() == Approx(0.0f).margin(1e-3));
    CHECK_THROWS_AS(FourierImage::colourCorrelationOf(torch::zeros({1, 3})), DataError);
    CHECK_THROWS_AS(FourierImage::colourCorrelationOf(torch::zeros({10, 3})), DataError);
}

TEST_CASE("the synthesis loss and its gradient equal PyTorch's (and the leaky dead-unit escape's)", "[synthesis]")
{
    const QJsonObject ref = referenceCases();
    auto demo = Model::load(testpaths::demoModel());
    auto rgb = Model::load(synthesisDir() + "/rgb.pt");
    for (const QJsonValue &v : ref.value("cases").toArray()) {
        const QJsonObject c = v.toObject();
        const std::string name = c.value("name").toString().toStdString();
        SECTION(name)
        {
            auto model = c.value("model").toString() == "demo" ? demo : rgb;
            const std::string layerName = c.value("layer").toString().toStdString();
            const int layer = layerName.empty() ? -1 : model->layer(layerName).index;
            std::vector<UnitSynthesizer::Target> targets;
            for (const QJsonValue &u : c.value("units").toArray()) {
                const QJsonObject o = u.toObject();
                targets.push_back({layer, o.value("channel").toInt(), o.value("y").toInt(), o.value("x").toInt()});
            }
            UnitSynthesizer::Options o;
            o.images = c.value("images").toInt();
            o.objective = parseObjective(c.value("objective").toString().toStdString());
            o.diversityWeight = c.value("diversity").toDouble();
            o.regularizer = parseRegularizer(c.value("regularizer").toString().toStdString());
            o.regularizerWeight = c.value("regularizer_weight").toDouble();
            o.size = c.value("size").toInt();
            o.batch = 64;
            o.parametrisation.decay = c.value("decay").toDouble();
            o.parametrisation.amplitude = c.value("amplitude").toDouble();
            o.parametrisation.colour = colourOf(c.value("colour").toArray());
            UnitSynthesizer s(model, targets, o);
            REQUIRE(s.batches() == 1);
            const torch::Tensor spectrum = NpyFile::read(synthesisDir() + "/" + name + ".spectrum.npy");
            REQUIRE(s.spectrum(0).sizes() == spectrum.sizes());
            {
                torch::NoGradGuard noGrad;
                s.spectrum(0).copy_(spectrum);
            }
            const QJsonObject t = c.value("transform").toObject();
            UnitSynthesizer::Transform transform{t.value("dx").toDouble(), t.value("dy").toDouble(),
                                                 t.value("scale").toDouble(), t.value("angle").toDouble()};
            const torch::Tensor loss = s.loss(transform, c.value("rule").toString() == "leaky");
            CHECK(loss.item<double>() == Approx(c.value("loss").toDouble()).epsilon(1e-4).margin(1e-5));
            const torch::Tensor grad = torch::autograd::grad({loss}, {s.spectrum(0)}).at(0);
            const torch::Tensor expected = NpyFile::read(synthesisDir() + "/" + name + ".grad.npy");
            const double scale = expected.abs().max().item<double>();
            REQUIRE(scale > 0);
            const double worst = (grad - expected).abs().max().item<double>();
            INFO("largest gradient difference " << worst << " of " << scale);
            CHECK(worst <= 1e-4 * scale);
        }
    }
}

TEST_CASE("synthesised images excite their unit more than its best dataset image, and more than the other units' "
          "images do",
          "[synthesis]")
{
    auto model = Model::load(testpaths::demoModel());
    const int layer = model->layer("features.relu2").index;
    UnitSynthesizer::Options o;
    o.steps = 128;
    o.batch = 64;
    const auto targets = UnitSynthesizer::layerTargets(*model, layer);
    REQUIRE(targets.size() == 64);
    UnitSynthesizer s(model, targets, o);
    while (!s.run(32)) {
    }
    const auto &r = s.result();
    REQUIRE(r.images.sizes() == torch::IntArrayRef({64, 1, 28, 28}));
    REQUIRE(r.responses.sizes() == torch::IntArrayRef({64, 64}));
    CHECK(r.loss.size() == 128);
    CHECK(r.loss.back() < r.loss.front());

    // The unit's best response over 2000 Fashion-MNIST test images (spatial maximum, as the scan ranks).
    std::unique_ptr<ImageSource> source(
        ImageSource::open(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz"));
    BatchReader reader(*source, Preprocessor(model->input()));
    torch::Tensor best = torch::full({64}, -1e30f);
    const int call = model->layers()[static_cast<size_t>(layer)].index;
    for (int64_t first = 0; first < 2000; first += 500) {
        const Batch b = reader.read(first, 500, 1);
        const torch::Tensor maps = model->probe().run(b.input, {call}).captured.at(0);
        best = torch::maximum(best, maps.flatten(2).amax(2).amax(0));
    }
    int above = 0;
    double smallest = 1e30;
    std::vector<double> ratios;
    for (int c = 0; c < 64; ++c) {
        const double ratio = r.objective[static_cast<size_t>(c)] / std::max(1e-6f, best[c].item<float>());
        ratios.push_back(ratio);
        above += ratio > 1.0;
        smallest = std::min(smallest, ratio);
    }
    std::sort(ratios.begin(), ratios.end());
    std::printf("features.relu2 synthesised / best of 2000 dataset images: median %.2f, min %.2f, %d of 64 above 1\n",
                ratios[32], smallest, above);
    CHECK(above >= 60);
    // Own unit against the other units' images: the diagonal of the responses over the column's mean elsewhere.
    const torch::Tensor diag = r.responses.diagonal();
    const torch::Tensor others = (r.responses.sum(0) - diag) / 63.0;
    const int own = (diag > others).sum().item<int>();
    CHECK(own >= 60);
}

TEST_CASE("synthesis is seeded, keeps its images when stopped, and rejects bad targets", "[synthesis]")
{
    auto model = Model::load(testpaths::demoModel());
    const int layer = model->layer("features.conv3").index;
    UnitSynthesizer::Options o;
    o.steps = 6;
    o.images = 2;
    o.diversityWeight = 1;
    o.regularizer = UnitSynthesizer::Regularizer::TotalVariation;
    o.regularizerWeight = 1;
    UnitSynthesizer a(model, {{layer, 5, -1, -1}, {layer, 9, 3, 4}}, o);
    UnitSynthesizer b(model, {{layer, 5, -1, -1}, {layer, 9, 3, 4}}, o);
    while (!a.run(4)) {
    }
    while (!b.run(1)) {
    }
    CHECK(torch::equal(a.result().images, b.result().images));
    CHECK(a.result().images.size(0) == 4);

    struct StopAfter : Progress {
        int calls = 0;
        void report(std::int64_t, std::int64_t, const std::string &) override { ++calls; }
        bool cancelled() const override { return calls >= 2; }
    } stop;
    UnitSynthesizer c(model, {{layer, 5, -1, -1}}, o);
    CHECK_THROWS_AS(c.run(10, &stop), CancelledError);
    CHECK(c.result().stepsDone == 2);
    CHECK(c.result().images.size(0) == 2);
    CHECK(std::isfinite(c.result().objective.at(0)));

    // A wide target list runs batch after batch: the finished batches' images stay, the next starts when the one
    // before is done, progress counts the steps of all of them; the result is the same however run() is called.
    {
        UnitSynthesizer::Options narrow;
        narrow.steps = 3;
        narrow.batch = 2;
        std::vector<UnitSynthesizer::Target> five;
        for (int c = 0; c < 5; ++c)
            five.push_back({layer, c, -1, -1});
        struct Count : Progress {
            std::int64_t done = 0, total = 0;
            void report(std::int64_t d, std::int64_t t, const std::string &) override { done = d, total = t; }
            bool cancelled() const override { return false; }
        } count;
        UnitSynthesizer stepwise(model, five, narrow);
        REQUIRE(stepwise.batches() == 3);
        std::vector<std::int64_t> rows;
        while (!stepwise.run(1, &count))
            rows.push_back(stepwise.result().images.size(0));
        CHECK(rows == std::vector<std::int64_t>{2, 2, 2, 4, 4, 4, 5, 5});
        CHECK(count.done == 9);
        CHECK(count.total == 9);
        CHECK(stepwise.result().batchesDone == 3);
        CHECK(stepwise.result().objective.size() == 5);
        UnitSynthesizer atOnce(model, five, narrow);
        while (!atOnce.run(100)) {
        }
        CHECK(torch::equal(atOnce.result().images, stepwise.result().images));
        CHECK(torch::equal(atOnce.result().responses, stepwise.result().responses));
    }

    CHECK_THROWS_AS(UnitSynthesizer(model, {{layer, 64, -1, -1}}, o), UsageError);
    CHECK_THROWS_AS(UnitSynthesizer(model, {{layer, 0, 7, 40}}, o), UsageError);
    CHECK_THROWS_AS(UnitSynthesizer(model, {{layer, 0, -1, -1}, {layer + 1, 0, -1, -1}}, o), UsageError);
    CHECK_THROWS_AS(UnitSynthesizer(model, {{-1, 10, -1, -1}}, o), UsageError);
    CHECK_THROWS_AS(UnitSynthesizer(model, {}, o), UsageError);
    UnitSynthesizer::Options bad = o;
    bad.steps = 0;
    CHECK_THROWS_AS(UnitSynthesizer(model, {{layer, 0, -1, -1}}, bad), UsageError);
    // Class logits and a larger image than the model's input on a conv layer both run.
    UnitSynthesizer logits(model, {{-1, 3, -1, -1}}, o);
    CHECK_NOTHROW(logits.run(2));
    CHECK(logits.result().responses.size(1) == 10);
    UnitSynthesizer::Options large = o;
    large.size = 40;
    UnitSynthesizer big(model, {{layer, 1, -1, -1}}, large);
    big.run(2);
    CHECK(big.result().images.size(3) == 40);
    // fc layers need the model's own size: a clear message, no crash.
    large.images = 1;
    UnitSynthesizer fc(model, {{model->layer("classifier.fc1").index, 0, -1, -1}}, large);
    CHECK_THROWS_AS(fc.run(1), UnsupportedModelError);
}

TEST_CASE("units of a residual block that start dead climb out through leaky rectifiers", "[synthesis]")
{
    // ResNet-18 (seeded random weights) layer2: block outputs, ReLU after the residual sum. The grey starting image
    // leaves several centre neurons at 0, where the plain gradient is 0; every unit must end clearly excited there.
    auto model = Model::load(testpaths::fixtures() + "/resnet18.scripted.pt");
    const int layer = model->layer("layer2").index;
    UnitSynthesizer::Options o;
    o.steps = 49; // 48 run below: the batch is still being optimised, so its loss can be read
    o.size = 64;
    const UnitSynthesizer::Transform none{0, 0, 1, 0};
    int deadAtStart = 0;
    for (int c = 0; c < 8; ++c) {
        UnitSynthesizer s(model, {{layer, c, -1, -1}}, o);
        const double start = -s.loss(none).item<double>(); // the centre neuron's value
        deadAtStart += start <= 0;
        for (int i = 0; i < 3; ++i)
            REQUIRE_FALSE(s.run(16));
        const double end = -s.loss(none).item<double>();
        INFO("unit " << c << ": centre " << start << " at the start, " << end << " after 48 steps");
        CHECK(end > 1.0);
    }
    CHECK(deadAtStart >= 2); // the escape was needed
}
