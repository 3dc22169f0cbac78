// Reconstructions (gradient, deconvnet, guided backprop of units and class scores; Grad-CAM; guided Grad-CAM)
// equal PyTorch's eager models with full backward hooks implementing the same rules (fixtures written by
// tests/fixtures/make_reconstructions.py): the demo, a ResNet-18, an AlexNet, a MobileNetV2 (ReLU6) and a model
// with LeakyReLU / ReLU6 / SiLU, each scripted and traced. Tolerance: 1e-5 of the reference's largest value.
#include "CatchTorch.h"

#include "model/Model.h"
#include "common/NpyFile.h"
#include "explain/Reconstructor.h"
#include "explain/SanityCheck.h"
#include "TestPaths.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <ATen/Parallel.h>

using namespace convscope;

namespace {

struct OneThread { // the references were computed on one thread
    int saved = at::get_num_threads();
    OneThread() { at::set_num_threads(1); }
    ~OneThread() { at::set_num_threads(saved); }
};

double relativeDiff(const torch::Tensor &got, const torch::Tensor &expected)
{
    REQUIRE(got.sizes() == expected.sizes());
    const double scale = expected.abs().max().item<double>();
    REQUIRE(scale > 0); // a reference of zeros would prove nothing
    return (got - expected).abs().max().item<double>() / scale;
}

std::vector<int> ints(const QJsonValue &v)
{
    std::vector<int> r;
    for (const auto &e : v.toArray())
        r.push_back(e.toInt());
    return r;
}

int layerIndex(const Model &model, const std::string &path)
{
    for (const auto &l : model.layers())
        if (l.path == path)
            return l.index;
    FAIL("no layer " << path);
    return -1;
}

void checkModel(const std::string &name, const std::string &mode)
{
    OneThread oneThread;
    const std::string dir = testpaths::fixtures() + "/recon/" + name;
    auto model = Model::load(testpaths::fixtures() + "/recon/" + name + "." + mode + ".pt");
    Reconstructor rec(model);
    const torch::Tensor input = NpyFile::read(dir + "/input.npy");
    QFile f(QString::fromStdString(dir + "/cases.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    int checked = 0;
    for (const auto &v : QJsonDocument::fromJson(f.readAll()).object()["cases"].toArray()) {
        const QJsonObject c = v.toObject();
        const std::string kind = c["kind"].toString().toStdString();
        const std::string file = dir + "/" + c["file"].toString().toStdString();
        INFO(name << " " << mode << " " << file);
        if (kind == "unit") {
            const int layer = layerIndex(*model, c["layer"].toString().toStdString());
            UnitTarget t{c["channel"].toInt(), -1, -1};
            if (c["at"].isArray())
                t.y = c["at"].toArray()[0].toInt(), t.x = c["at"].toArray()[1].toInt();
            std::vector<UnitTarget> targets(static_cast<size_t>(input.size(0)), t);
            const auto rule = parseBackpropRule(c["rule"].toString().toStdString());
            const auto result = rec.units(input, layer, targets, rule);
            std::vector<torch::Tensor> maps;
            const auto ys = ints(c["y"]), xs = ints(c["x"]);
            const auto values = c["values"].toArray();
            for (size_t i = 0; i < result.size(); ++i) {
                maps.push_back(result[i].map);
                CHECK(result[i].y == ys[i]);
                CHECK(result[i].x == xs[i]);
                CHECK(result[i].value == Approx(values[static_cast<int>(i)].toDouble()).epsilon(1e-5).margin(1e-6));
            }
            CHECK(relativeDiff(torch::stack(maps), NpyFile::read(file)) <= 1e-5);
        } else if (kind == "class") {
            const auto rule = parseBackpropRule(c["rule"].toString().toStdString());
            CHECK(relativeDiff(rec.classSaliency(input, ints(c["classes"]), rule), NpyFile::read(file)) <= 1e-5);
        } else {
            const int layer = layerIndex(*model, c["layer"].toString().toStdString());
            const auto classes = ints(c["classes"]);
            const GradCamResult cam = rec.gradCam(input, classes, layer);
            CHECK(relativeDiff(cam.cam, NpyFile::read(file)) <= 1e-5);
            CHECK(relativeDiff(cam.upsampled, NpyFile::read(dir + "/" + c["upsampled"].toString().toStdString())) <=
                  1e-5);
            CHECK(relativeDiff(rec.guidedGradCam(input, classes, layer),
                               NpyFile::read(dir + "/" + c["guided"].toString().toStdString())) <= 1e-5);
        }
        ++checked;
    }
    CHECK(checked >= 7);
}

} // namespace

#define RECON_TEST(name)                                                                                     \
    TEST_CASE("reconstructions equal PyTorch backward hooks: " #name, "[explain][reconstruct]")                       \
    {                                                                                                        \
        SECTION("scripted") { checkModel(#name, "scripted"); }                                               \
        SECTION("traced") { checkModel(#name, "traced"); }                                                   \
    }

RECON_TEST(demo)
RECON_TEST(resnet18)
RECON_TEST(alexnet)
RECON_TEST(mobilenet_v2)
RECON_TEST(mixed)

TEST_CASE("the rule swaps every rectifier and names the activations it leaves alone", "[explain][reconstruct]")
{
    auto mixed = Model::load(testpaths::fixtures() + "/recon/mixed.scripted.pt");
    Reconstructor rec(mixed);
    CHECK(rec.uncovered(BackpropRule::Gradient).empty());
    CHECK(rec.uncovered(BackpropRule::Guided) == std::vector<std::string>{"SiLU (1 call)"});
    // Projecting a unit before the SiLU needs none of it.
    CHECK(rec.uncovered(BackpropRule::Deconvnet, mixed->layer("act2").index).empty());
    auto demo = Model::load(testpaths::demoModel());
    CHECK(Reconstructor(demo).uncovered(BackpropRule::Deconvnet).empty());
    CHECK(Reconstructor(demo).defaultCamLayer() == demo->layer("features.relu4").index);
}
