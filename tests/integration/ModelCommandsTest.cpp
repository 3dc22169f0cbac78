// The CLI's model commands end to end (info, predict, evaluate, filters, activations): real model, real data,
// outputs parsed and compared with PyTorch.
#include "CatchTorch.h"

#include "common/NpyFile.h"
#include "scan/ProjectStore.h"
#include "TestPaths.h"

#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <map>

#include "CliRunner.h"

using namespace clirunner;

TEST_CASE("cli info --json lists every layer with its shape", "[cli]")
{
    Run r = cli({"info", demo(), "--json"});
    REQUIRE(r.code == 0);
    QJsonObject o = QJsonDocument::fromJson(r.out).object();
    const QJsonArray layers = o["layers"].toArray();
    const QJsonObject shapes = reference()["shapes"].toObject();
    REQUIRE(layers.size() == shapes.size());
    for (const auto &v : layers) {
        const QJsonObject l = v.toObject();
        QJsonArray expected = shapes[l["path"].toString()].toArray();
        expected.prepend(1);
        CHECK(l["output_shape"].toArray() == expected);
    }
    CHECK(o["classes"].toInt() == 10);
    CHECK(o["summary"].toArray()[0].toObject()["category"].toString() == "Conv 3x3");
    Run text = cli({"info", demo()});
    CHECK(text.code == 0);
    CHECK(text.out.contains("features.conv2"));
    CHECK(text.out.contains("cost by layer type"));
}

TEST_CASE("cli predict equals PyTorch's softmax top-5", "[cli]")
{
    QStringList args{"predict", demo(), "--json"};
    for (int i = 0; i < 20; ++i)
        args << testSet() + "#" + QString::number(i);
    Run r = cli(args);
    REQUIRE(r.code == 0);
    const QJsonArray ours = QJsonDocument::fromJson(r.out).array();
    const QJsonArray theirs = reference()["predictions"].toArray();
    REQUIRE(ours.size() == 20);
    for (int i = 0; i < 20; ++i) {
        const QJsonArray a = ours[i].toObject()["predictions"].toArray(), b = theirs[i].toArray();
        REQUIRE(a.size() == 5);
        for (int k = 0; k < 5; ++k) {
            INFO("image " << i << " rank " << k);
            CHECK(a[k].toObject()["class"].toInt() == b[k].toObject()["class"].toInt());
            CHECK(a[k].toObject()["probability"].toDouble() ==
                  Approx(b[k].toObject()["probability"].toDouble()).margin(1e-5));
        }
    }
}

TEST_CASE("cli evaluate: the demo reaches at least 91% on the Fashion-MNIST test set", "[cli][slow]")
{
    Run r = cli({"evaluate", demo(), testSet(), "--json", "--quiet"});
    REQUIRE(r.code == 0);
    QJsonObject o = QJsonDocument::fromJson(r.out).object();
    CHECK(o["images"].toInt() == 10000);
    CHECK(o["labelled"].toInt() == 10000);
    CHECK(o["top1"].toDouble() >= 0.91);
}

TEST_CASE("cli evaluate on a folder with broken images skips them and says why", "[cli][errors]")
{
    // The demo takes 28×28 gray; the fixture folder has RGB, RGBA, CMYK, 16-bit and 1-pixel images.
    Run r = cli({"evaluate", demo(), fixture("images/good"), "--quiet", "--json"});
    CHECK(r.code == 0);
    CHECK(QJsonDocument::fromJson(r.out).object()["images"].toInt() == 8);
    Run bad = cli({"predict", demo(), fixture("images/bad/text.jpg"), fixture("images/good/gray/g.png")});
    CHECK(bad.code == 1); // one of two failed
    CHECK(bad.err.contains("text.jpg"));
    CHECK(bad.out.contains("g.png"));
}

TEST_CASE("cli layer names: empty or ambiguous is a usage error listing layers, and no stray parser warnings",
          "[cli][errors]")
{
    QTemporaryDir dir;
    Run empty = cli({"activations", demo(), testSet() + "#0", "--layer", "", "-o", dir.filePath("a.png")});
    CHECK(empty.code == 2);
    CHECK(empty.err.contains("a layer name is needed"));
    CHECK(empty.err.contains("features.conv1"));
    CHECK(!QFile::exists(dir.filePath("a.png")));
    Run blank = cli({"filters", demo(), "--layer", " ", "-o", dir.filePath("f.png")});
    CHECK(blank.code == 2);
    // "relu1" ends only "features.relu1"; "conv" ends no path; a suffix shared by two paths is ambiguous.
    Run ok = cli({"activations", demo(), testSet() + "#0", "--layer", "relu1", "-o", dir.filePath("r.png")});
    INFO(ok.err.toStdString());
    CHECK(ok.code == 0);
    CHECK(!ok.err.contains("option not defined")); // no check of an option the command does not have
    CHECK(!ok.out.contains("option not defined"));
}

TEST_CASE("cli filters writes PNG and SVG grids", "[cli]")
{
    QTemporaryDir dir;
    Run r = cli({"filters", demo(), "--layer", "conv 2", "-o", dir.filePath("f.png"), "--width", "640"});
    REQUIRE(r.code == 0);
    QImage img(dir.filePath("f.png"));
    REQUIRE(!img.isNull());
    CHECK(img.width() == 640);
    r = cli({"filters", demo(), "--layer", "features.conv3", "--mode", "slices", "-o", dir.filePath("f.svg")});
    REQUIRE(r.code == 0);
    QFile svg(dir.filePath("f.svg"));
    REQUIRE(svg.open(QIODevice::ReadOnly));
    CHECK(svg.readAll().count("<image") == 64 * 64);
    r = cli({"filters", demo(), "--layer", "fc1", "-o", dir.filePath("x.png")});
    CHECK(r.code == 2);
    CHECK(r.err.contains("Linear"));
}

TEST_CASE("cli activations: .npy equals PyTorch's forward hook, PNG has one tile per channel", "[cli]")
{
    QTemporaryDir dir;
    Run r = cli({"activations", demo(), testSet() + "#0", "--layer", "features.relu2", "-o", dir.filePath("a.npy")});
    REQUIRE(r.code == 0);
    torch::Tensor ours = convscope::NpyFile::read(dir.filePath("a.npy").toStdString());
    torch::Tensor theirs = convscope::NpyFile::read(testpaths::fixtures() + "/demo/relu2_0.npy");
    REQUIRE(ours.sizes() == theirs.sizes());
    CHECK((ours - theirs).abs().max().item<float>() <= 1e-5f);
    r = cli({"activations", demo(), testSet() + "#0", "--layer", "relu2", "-o", dir.filePath("a.png"), "--order",
             "strength"});
    REQUIRE(r.code == 0);
    CHECK(!QImage(dir.filePath("a.png")).isNull());
    // The same grid as SVG: one embedded tile image per channel of the layer.
    r = cli({"activations", demo(), testSet() + "#0", "--layer", "relu2", "-o", dir.filePath("a.svg")});
    REQUIRE(r.code == 0);
    QFile svg(dir.filePath("a.svg"));
    REQUIRE(svg.open(QIODevice::ReadOnly));
    CHECK(svg.readAll().count("<image") == ours.size(1));
}

TEST_CASE("cli input-spec shows the assumed input, writes the sidecar keeping its other fields, refuses what the model cannot take", "[cli][inputspec]")
{
    QTemporaryDir dir;
    const QString model = dir.filePath("net.pt");
    REQUIRE(QFile::copy(demo(), model));
    // Without a sidecar: the assumption, and how to name the classes.
    Run shown = cli({"input-spec", model});
    REQUIRE(shown.code == 0);
    CHECK(shown.out.contains("assumed (no sidecar)"));
    CHECK(shown.out.contains("--labels-file"));

    // An existing sidecar's other fields are kept.
    QFile side(dir.filePath("net.json"));
    REQUIRE(side.open(QIODevice::WriteOnly));
    side.write(R"({"name": "my net", "layer_names": {"features.conv1": "first"}, "input": {"width": 28, "height": 28}})");
    side.close();
    QFile labels(dir.filePath("names.txt"));
    REQUIRE(labels.open(QIODevice::WriteOnly));
    for (int i = 0; i < 10; ++i)
        labels.write(QByteArray("kind ") + QByteArray::number(i) + "\n");
    labels.close();
    Run wrote = cli({"input-spec", model, "--mean", "0.286", "--std", "0.353", "--labels-file", "names.txt", "--json"});
    REQUIRE(wrote.code == 0);
    const QJsonObject o = QJsonDocument::fromJson(wrote.out).object();
    CHECK(o["source"].toString() == dir.filePath("net.json"));
    CHECK(o["labels"].toInt() == 10);
    CHECK(o["input"].toObject()["std"].toArray()[0].toDouble() == Approx(0.353));
    REQUIRE(side.open(QIODevice::ReadOnly));
    const QJsonObject saved = QJsonDocument::fromJson(side.readAll()).object();
    side.close();
    CHECK(saved["name"].toString() == "my net");
    CHECK(saved["layer_names"].toObject()["features.conv1"].toString() == "first");
    CHECK(saved["labels_file"].toString() == "names.txt");
    // Every command reads it: predictions are named.
    Run predicted = cli({"predict", model, testSet() + "#0", "--json"});
    REQUIRE(predicted.code == 0);
    CHECK(predicted.out.contains("kind 9")); // test image 0 is an ankle boot, class 9

    // An input size the model does not take, and a bad value: usage errors, the sidecar unchanged.
    const QByteArray before = [&] { side.open(QIODevice::ReadOnly); QByteArray b = side.readAll(); side.close(); return b; }();
    Run wrongSize = cli({"input-spec", model, "--width", "20", "--height", "20"});
    CHECK(wrongSize.code == 2);
    CHECK(wrongSize.err.contains("not saved"));
    Run badMean = cli({"input-spec", model, "--mean", "0.1,x"});
    CHECK(badMean.code == 2);
    CHECK(badMean.err.contains("--mean"));
    REQUIRE(side.open(QIODevice::ReadOnly));
    CHECK(side.readAll() == before);
}

TEST_CASE("cli input-spec --channel-order bgr: a BGR model predicts what its RGB twin predicts", "[cli][inputspec]")
{
    // resnet18_bgr is resnet18 with conv1 reading its planes in reverse (tests/fixtures/make_models.py): fed BGR
    // planes with the reversed mean/std it computes what resnet18 computes on RGB.
    QTemporaryDir dir;
    const QString twin = dir.filePath("twin.pt");
    REQUIRE(QFile::copy(fixture("resnet18_bgr.scripted.pt"), twin));
    const QString photo = fixture("photos64/astronaut_centre.png");
    Run wrote = cli({"input-spec", twin, "--width", "64", "--height", "64", "--resize", "stretch", "--channel-order",
                     "BGR", "--mean", "0.406,0.456,0.485", "--std", "0.225,0.224,0.229", "--json"});
    REQUIRE(wrote.code == 0);
    CHECK(QJsonDocument::fromJson(wrote.out).object()["input"].toObject()["channel_order"].toString() == "bgr");
    Run shown = cli({"input-spec", twin});
    REQUIRE(shown.code == 0);
    CHECK(shown.out.contains("BGR order"));
    CHECK(shown.out.contains("(B, G, R)"));

    auto logits = [](const Run &r) {
        std::map<int, double> byClass;
        for (const auto &p : QJsonDocument::fromJson(r.out).array().at(0).toObject()["predictions"].toArray())
            byClass[p.toObject()["class"].toInt()] = p.toObject()["logit"].toDouble();
        return byClass;
    };
    Run bgr = cli({"predict", twin, photo, "--json"});
    Run rgb = cli({"predict", fixture("resnet18.scripted.pt"), photo, "--sidecar", fixture("photos64.json"), "--json"});
    REQUIRE(bgr.code == 0);
    REQUIRE(rgb.code == 0);
    const auto a = logits(bgr), b = logits(rgb);
    REQUIRE(a.size() >= 3);
    REQUIRE(b.size() == a.size());
    for (const auto &[c, logit] : b) {
        REQUIRE(a.count(c));
        CHECK(a.at(c) == Approx(logit).margin(1e-4));
    }
    // Told RGB, the twin sees the planes the wrong way round and predicts something else; the mean and std it
    // had are reversed with the planes (they name colours).
    Run toRgb = cli({"input-spec", twin, "--channel-order", "rgb", "--json"});
    REQUIRE(toRgb.code == 0);
    const QJsonObject rgbInput = QJsonDocument::fromJson(toRgb.out).object()["input"].toObject();
    CHECK(rgbInput["mean"].toArray()[0].toDouble() == Approx(0.485));
    CHECK(rgbInput["std"].toArray()[2].toDouble() == Approx(0.225));
    CHECK(logits(cli({"predict", twin, photo, "--json"})) != b);

    // Usage errors: an unknown order, and BGR for a one-channel model.
    CHECK(cli({"input-spec", twin, "--channel-order", "rbg"}).code == 2);
    const QString gray = dir.filePath("gray.pt");
    REQUIRE(QFile::copy(demo(), gray));
    Run oneChannel = cli({"input-spec", gray, "--channel-order", "bgr"});
    CHECK(oneChannel.code == 2);
    CHECK(oneChannel.err.contains("3-channel"));
}
