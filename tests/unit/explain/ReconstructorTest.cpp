// Reconstructions (gradient, deconvnet, guided backprop of units and class scores; Grad-CAM; guided Grad-CAM)
// equal PyTorch's eager models with the same rules on every rectifier call, module or functional (fixtures written
// by tests/fixtures/make_reconstructions.py): the demo, every architecture of the torchvision zoo fixtures —
// GoogLeNet at 224 px and Inception-v3 with their ceil-mode pools and concatenated branches — and a model with
// LeakyReLU / ReLU6 / SiLU, each scripted and traced. Tolerance: 1e-5 of the reference's largest value.
//
// One thread, like the references: a class score of a randomly initialised GoogLeNet is chaotic in eager PyTorch
// itself (its input gradient on 1 and on 2 threads differs by 4e-2 of its largest value, float and double by 5e-2:
// near-ties in the max pools flip), so a multi-threaded comparison would test the hardware, not the graph.
#include "CatchTorch.h"

#include "model/Model.h"
#include "common/NpyFile.h"
#include "data/ImageReference.h"
#include "data/Preprocessor.h"
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
    CHECK(checked >= 7); // at least one unit per rule, three class saliencies, Grad-CAM
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
RECON_TEST(googlenet)
RECON_TEST(inception_v3)
RECON_TEST(vgg11)
RECON_TEST(vgg11_bn)
RECON_TEST(resnext)
RECON_TEST(densenet)
RECON_TEST(squeezenet)
RECON_TEST(mobilenet_v3_small)
RECON_TEST(shufflenet_v2)
RECON_TEST(mnasnet)
RECON_TEST(efficientnet)
RECON_TEST(regnet)
RECON_TEST(convnext)

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

TEST_CASE("a BGR model's reconstructions come out in RGB, equal to its RGB twin's", "[explain][reconstruct][inputspec]")
{
    // resnet18_bgr computes on BGR planes what resnet18 computes on RGB ones (tests/fixtures/make_models.py): its
    // input gradients, swapped back to RGB for showing, must be resnet18's.
    OneThread oneThread;
    auto rgb = Model::load(testpaths::fixtures() + "/resnet18.scripted.pt",
                           Model::Options{testpaths::fixtures() + "/photos64.json"});
    auto bgr = Model::load(testpaths::fixtures() + "/resnet18_bgr.scripted.pt",
                           Model::Options{testpaths::fixtures() + "/photos64_bgr.json"});
    const cv::Mat photo = ImageReference::load(testpaths::fixtures() + "/photos64/astronaut_centre.png").image;
    const torch::Tensor xRgb = Preprocessor(rgb->input()).tensor(photo).unsqueeze(0);
    const torch::Tensor xBgr = Preprocessor(bgr->input()).tensor(photo).unsqueeze(0);
    REQUIRE(torch::allclose(bgr->forward(xBgr), rgb->forward(xRgb), 1e-4, 1e-4));
    const Reconstructor a(rgb), b(bgr);
    const int layer = rgb->layer("layer2.0.conv2").index;
    for (BackpropRule rule : {BackpropRule::Gradient, BackpropRule::Deconvnet, BackpropRule::Guided}) {
        INFO(static_cast<int>(rule));
        const torch::Tensor expected = a.unit(xRgb, layer, {5, -1, -1}, rule).map;
        const torch::Tensor got = b.unit(xBgr, layer, {5, -1, -1}, rule).map;
        CHECK(relativeDiff(got, expected) < 1e-4);
        CHECK(relativeDiff(got.flip(0), expected) > 1e-2); // the planes differ: the swap is seen
    }
    CHECK(relativeDiff(b.classSaliency(xBgr, {3}, BackpropRule::Guided)[0],
                       a.classSaliency(xRgb, {3}, BackpropRule::Guided)[0]) < 1e-4);
}
