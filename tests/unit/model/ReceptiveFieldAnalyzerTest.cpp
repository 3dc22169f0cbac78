// Receptive fields read from the graph equal the support of the input gradient of the unit (computed by PyTorch
// autograd in tests/fixtures/make_models.py on a copy with positive weights and average pools), for torchvision
// architectures scripted and traced: strided convs, pools with ceil mode, residual sums, concatenations, depthwise
// convs, squeeze-excitation (whole image).
#include "CatchTorch.h"

#include "model/Model.h"
#include "TestPaths.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace convscope;

namespace {

void checkFields(const std::string &arch, const std::string &mode)
{
    const std::string dir = testpaths::fixtures() + "/" + arch;
    QFile f(QString::fromStdString(dir + "/fields.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    const QJsonObject ref = QJsonDocument::fromJson(f.readAll()).object();
    const int size = ref["input_size"].toInt();

    QTemporaryDir tmp;
    const QString sidecar = tmp.filePath("model.json");
    QFile s(sidecar);
    REQUIRE(s.open(QIODevice::WriteOnly));
    s.write(QJsonDocument(QJsonObject{{"input", QJsonObject{{"width", size}, {"height", size}, {"channels", 3}}}})
                .toJson());
    s.close();
    auto model = Model::load(testpaths::fixtures() + "/" + arch + "." + mode + ".pt",
                             Model::Options{sidecar.toStdString()});

    const QJsonObject layers = ref["layers"].toObject();
    int exact = 0, approximate = 0;
    for (const LayerInfo &l : model->layers()) {
        if (!layers.contains(QString::fromStdString(l.path)))
            continue;
        for (const auto &u : layers[QString::fromStdString(l.path)].toArray()) {
            const QJsonArray a = u.toArray();
            const ReceptiveField::Rect support{a[2].toInt(), a[3].toInt(), a[4].toInt(), a[5].toInt()};
            const ReceptiveField::Rect ours = l.field.clippedAt(a[0].toInt(), a[1].toInt());
            INFO(arch << " " << mode << " " << l.path << " unit (" << a[0].toInt() << ", " << a[1].toInt()
                      << "): field " << l.field.describe() << " -> rows [" << ours.y0 << ", " << ours.y1
                      << ") cols [" << ours.x0 << ", " << ours.x1 << "); gradient support rows [" << support.y0
                      << ", " << support.y1 << ") cols [" << support.x0 << ", " << support.x1 << ")");
            if (l.field.exact) {
                CHECK(ours == support);
            } else {
                // An approximate field over-states: it must still hold the whole support.
                CHECK(ours.y0 <= support.y0);
                CHECK(ours.x0 <= support.x0);
                CHECK(ours.y1 >= support.y1);
                CHECK(ours.x1 >= support.x1);
            }
        }
        if (l.capturable)
            (l.field.exact ? exact : approximate) += 1;
    }
    INFO(arch << " " << mode << ": " << exact << " exact, " << approximate << " approximate layers");
    CHECK(exact > 0);
    // Architectures built only from ops the analyzer follows get exact fields everywhere.
    if (arch != "shufflenet_v2" && arch != "convnext" && arch != "googlenet" && arch != "densenet" &&
        arch != "squeezenet")
        CHECK(approximate == 0);
}

} // namespace

#define FIELD_TEST(arch)                                                                                     \
    TEST_CASE("receptive fields equal gradient support: " #arch, "[model][fields]")                                  \
    {                                                                                                        \
        SECTION("scripted") { checkFields(#arch, "scripted"); }                                              \
        SECTION("traced") { checkFields(#arch, "traced"); }                                                  \
    }

FIELD_TEST(alexnet)
FIELD_TEST(vgg11)
FIELD_TEST(vgg11_bn)
FIELD_TEST(resnet18)
FIELD_TEST(resnext)
FIELD_TEST(densenet)
FIELD_TEST(googlenet)
FIELD_TEST(squeezenet)
FIELD_TEST(mobilenet_v2)
FIELD_TEST(mobilenet_v3_small)
FIELD_TEST(mnasnet)
FIELD_TEST(efficientnet)
FIELD_TEST(regnet)
FIELD_TEST(shufflenet_v2)
FIELD_TEST(convnext)

TEST_CASE("receptive fields of the demo model follow its convs and pools", "[model][fields]")
{
    auto model = Model::load(testpaths::demoModel());
    // conv 3x3 pad 1 -> 3; pool 2/2 -> 4; conv -> 8; conv -> 12; pool -> 14; conv -> 22; pool -> 26 (stride 8).
    CHECK(model->layer("features.conv1").field.describe() == "3×3 px, stride 1");
    CHECK(model->layer("features.conv4").field.describe() == "22×22 px, stride 4");
    CHECK(model->layer("features.pool3").field.describe() == "26×26 px, stride 8");
    const auto r = model->layer("features.conv1").field.at(0, 0);
    CHECK(r == ReceptiveField::Rect{-1, 2, -1, 2}); // one pixel of zero padding above and left
    CHECK(model->layer("classifier.fc1").field.scope == ReceptiveField::Scope::Global);
    CHECK(model->layer("classifier.fc1").field.exact);
}
