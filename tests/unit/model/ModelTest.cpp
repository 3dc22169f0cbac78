// Loading models: the demo's layer table against PyTorch, and every kind of bad model file.
#include "CatchTorch.h"

#include "common/Error.h"
#include "model/ModulePath.h"
#include "model/Model.h"
#include "common/NpyFile.h"
#include "TestPaths.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace convscope;

namespace {
QJsonObject demoReference()
{
    QFile f(QString::fromStdString(testpaths::fixtures() + "/demo/reference.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    return QJsonDocument::fromJson(f.readAll()).object();
}
std::string badModel(const std::string &name) { return testpaths::fixtures() + "/models/" + name; }
} // namespace

TEST_CASE("demo model: sidecar, layer table and shapes match PyTorch", "[model]")
{
    auto model = Model::load(testpaths::demoModel());
    CHECK(model->input().width == 28);
    CHECK(model->input().channels == 1);
    CHECK(model->numClasses() == 10);
    CHECK(model->label(9) == "Ankle boot");
    CHECK(model->sidecar().notes.empty());

    const QJsonObject shapes = demoReference()["shapes"].toObject();
    REQUIRE(model->layers().size() == static_cast<size_t>(shapes.size()));
    for (const auto &l : model->layers()) {
        INFO(l.path);
        REQUIRE(shapes.contains(QString::fromStdString(l.path)));
        std::vector<std::int64_t> expected{1};
        for (const auto &d : shapes[QString::fromStdString(l.path)].toArray())
            expected.push_back(d.toInt());
        CHECK(l.outputShape == expected);
    }
    const LayerInfo &conv2 = model->layer("conv 2");
    CHECK(conv2.path == "features.conv2");
    CHECK(conv2.kind == LayerKind::Conv);
    CHECK(conv2.params == 32 * 64 * 9);
    CHECK(conv2.macs == 64 * 14 * 14 * 32 * 9);
    CHECK(conv2.category == "Conv 3x3");
    CHECK(model->layer("features").kind == LayerKind::Block);
    CHECK(model->layer("features").macs == 28 * 28 * 32 * 9 + 64 * 14 * 14 * 32 * 9 + 64 * 14 * 14 * 64 * 9 +
                                               128 * 7 * 7 * 64 * 9);
    CHECK(model->layer("fc1").path == "classifier.fc1"); // unique suffix
    CHECK(model->layer("18").path == "classifier.fc1");
    CHECK_THROWS_AS(model->layer("conv9"), UsageError);
}

TEST_CASE("cost summary sums multiply-adds by layer type", "[model]")
{
    auto model = Model::load(testpaths::demoModel());
    auto rows = model->costSummary();
    REQUIRE(!rows.empty());
    CHECK(rows[0].category == "Conv 3x3");
    std::int64_t total = 0;
    for (const auto &r : rows)
        total += r.macs;
    CHECK(total == model->layer("features").macs + model->layer("classifier").macs);
}

TEST_CASE("depthwise and pointwise convs are told apart (MobileNet table)", "[model]")
{
    for (const std::string mode : {"scripted", "traced"}) {
        auto model = Model::load(testpaths::fixtures() + "/mobilenet_v2." + mode + ".pt");
        auto rows = model->costSummary();
        std::map<std::string, double> share;
        std::int64_t total = 0;
        for (const auto &r : rows)
            total += r.macs;
        for (const auto &r : rows)
            share[r.category] = double(r.macs) / total;
        INFO(mode);
        CHECK(share["Conv 1x1"] > 0.6);
        CHECK(share["Conv dw 3x3"] > 0.05);
        CHECK(share.count("Linear"));
    }
}

TEST_CASE("bad model files give typed, readable errors", "[model][errors]")
{
    auto message = [](const std::string &path) {
        try {
            Model::load(path);
        } catch (const Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THROWS_AS(Model::load("/nonexistent/model.pt"), IoError);
    CHECK_THROWS_AS(Model::load(badModel("empty.pt")), ModelLoadError);
    CHECK(message(badModel("empty.pt")).find("empty") != std::string::npos);
    CHECK_THROWS_AS(Model::load(badModel("text.pt")), ModelLoadError);
    CHECK(message(badModel("text.pt")).find("not a TorchScript model") != std::string::npos);
    CHECK_THROWS_AS(Model::load(badModel("truncated.pt")), ModelLoadError);
    CHECK_THROWS_AS(Model::load(badModel("state_dict.pt")), ModelLoadError);
    CHECK_THROWS_AS(Model::load(badModel("string_input.pt")), UnsupportedModelError);
    CHECK(message(badModel("string_input.pt")).find("str") != std::string::npos);
    // A model that takes flat vectors: clear message naming the image shape it was given.
    CHECK_THROWS_AS(Model::load(badModel("vector.pt")), UnsupportedModelError);
    CHECK(message(badModel("vector.pt")).find("1×3×224×224") != std::string::npos);
    CHECK(message(badModel("vector.pt")).find('\n') == std::string::npos);
}

TEST_CASE("a sidecar that contradicts the model is reported", "[model][errors]")
{
    const std::string json = testpaths::fixtures() + "/models/rgb_sidecar.json";
    QFile f(QString::fromStdString(json));
    REQUIRE(f.open(QIODevice::WriteOnly));
    f.write(R"({"input": {"width": 28, "height": 28, "channels": 3}})");
    f.close();
    Model::Options o;
    o.sidecar = json;
    CHECK_THROWS_AS(Model::load(testpaths::demoModel(), o), UnsupportedModelError);
    REQUIRE(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(R"({"input": {"width": 28, "channels": 1, "std": [0]}})");
    f.close();
    CHECK_THROWS_AS(Model::load(testpaths::demoModel(), o), DataError);
    REQUIRE(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write("{ not json");
    f.close();
    CHECK_THROWS_AS(Model::load(testpaths::demoModel(), o), DataError);
}

TEST_CASE("without a sidecar, defaults follow the first layer's channels", "[model]")
{
    auto model = Model::load(testpaths::fixtures() + "/resnet18.traced.pt");
    CHECK(model->input().channels == 3);
    CHECK(model->input().width == 224);
    CHECK(model->input().resize == ResizePolicy::CenterCrop);
    REQUIRE(model->sidecar().notes.size() == 1);
    CHECK(model->sidecar().notes[0].find("ImageNet") != std::string::npos);
    CHECK(model->layer("layer1.0.relu#2").outputShape == std::vector<std::int64_t>{1, 64, 56, 56});
    // Layer names: a suffix shared by several layers, or no name at all, is a usage error naming layers.
    CHECK_THROWS_WITH(model->layer("0.conv1"), Catch::Contains("ambiguous") && Catch::Contains("layer2.0.conv1"));
    CHECK_THROWS_WITH(model->layer(""), Catch::Contains("a layer name is needed") && Catch::Contains("conv1"));

    // An ONNX model declaring a fixed 64×64 input: ImageNet's crop proportion at that size (73 → 64), not the middle
    // 64 px of a 256 px image, and the note says so.
    auto onnx = Model::load(testpaths::fixtures() + "/mobilenet_v2.fixed.onnx");
    REQUIRE(onnx->input().width == 64);
    CHECK(onnx->input().resizeTo == 73);
    REQUIRE(onnx->sidecar().notes.size() == 1);
    CHECK(onnx->sidecar().notes[0].find("64×64 (resize 73") != std::string::npos);
}
