// The reconstruction subcommands end to end: `reconstruct` and `saliency` write what the PyTorch references hold,
// `sanity` writes a figure and a CSV with the expected finding, `top --with-reconstructions` draws and caches the
// two-column figure.
#include "CatchTorch.h"

#include "CliRunner.h"
#include "common/NpyFile.h"

#include <QDir>
#include <QImage>
#include <QJsonArray>
#include <QTextStream>

using namespace clirunner;
using namespace convscope;

namespace {

double relativeDiff(const torch::Tensor &got, const torch::Tensor &expected)
{
    REQUIRE(got.sizes() == expected.sizes());
    return (got - expected).abs().max().item<double>() / expected.abs().max().item<double>();
}

QJsonArray demoCases()
{
    QFile f(fixture("recon/demo/cases.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    return QJsonDocument::fromJson(f.readAll()).object()["cases"].toArray();
}

} // namespace

TEST_CASE("cli reconstruct: .npy equals PyTorch, PNG shows image and projection", "[cli][reconstruct]")
{
    QTemporaryDir dir;
    // Case: features.relu3 unit 5 at its maximum, first test image, each rule.
    for (const auto &v : demoCases()) {
        const QJsonObject c = v.toObject();
        if (c["kind"].toString() != "unit" || c["layer"].toString() != "features.relu3")
            continue;
        const QString rule = c["rule"].toString();
        INFO(rule.toStdString());
        Run r = cli({"reconstruct", demo(), testSet() + "#0", "--layer", "features.relu3", "--unit", "5", "--method",
                     rule, "-o", dir.filePath(rule + ".npy")});
        REQUIRE(r.code == 0);
        CHECK(r.out.contains("at " + QByteArray::number(c["y"].toArray()[0].toInt()) + "," +
                             QByteArray::number(c["x"].toArray()[0].toInt())));
        const torch::Tensor expected = NpyFile::read(fixture("recon/demo/").toStdString() +
                                                     c["file"].toString().toStdString())[0];
        CHECK(relativeDiff(NpyFile::read(dir.filePath(rule + ".npy").toStdString()), expected) <= 1e-4);
    }
    Run png = cli({"reconstruct", demo(), testSet() + "#0", "--layer", "conv 3", "--unit", "5", "--crop", "-o",
                   dir.filePath("r.png"), "--width", "400"});
    REQUIRE(png.code == 0);
    const QImage image(dir.filePath("r.png"));
    REQUIRE_FALSE(image.isNull());
    CHECK(image.width() == 400);
    CHECK(cli({"reconstruct", demo(), testSet() + "#0", "--layer", "conv 3", "--unit", "5", "--at", "99,0", "-o",
               dir.filePath("x.png")}).code == 2);
    CHECK(cli({"reconstruct", demo(), testSet() + "#0", "--layer", "conv 3", "--unit", "64", "-o",
               dir.filePath("x.png")}).code == 2);
    CHECK(cli({"reconstruct", demo(), testSet() + "#0", "--layer", "conv 3", "--unit", "1", "--method", "lrp", "-o",
               dir.filePath("x.png")}).code == 2);
}

TEST_CASE("cli saliency: Grad-CAM equals PyTorch, uncovered activations are reported", "[cli][reconstruct]")
{
    QTemporaryDir dir;
    Run cam = cli({"saliency", demo(), testSet() + "#0", "--method", "gradcam", "--layer", "features.relu4", "-o",
                   dir.filePath("cam.npy")});
    REQUIRE(cam.code == 0);
    CHECK(cam.out.contains("Ankle boot"));
    const torch::Tensor expected = NpyFile::read(fixture("recon/demo/gradcam_up.npy").toStdString())[0];
    CHECK(relativeDiff(NpyFile::read(dir.filePath("cam.npy").toStdString())[0], expected) <= 1e-4);
    Run top = cli({"saliency", demo(), testSet() + "#0", "--top", "3", "--method", "guided-gradcam", "-o",
                   dir.filePath("top.png")});
    REQUIRE(top.code == 0);
    CHECK(top.out.count(',') == 2); // three classes listed
    CHECK_FALSE(QImage(dir.filePath("top.png")).isNull());
    // A model with SiLU: guided backprop says which activations keep their ordinary gradient.
    Run mixed = cli({"saliency", fixture("recon/mixed.scripted.pt"), fixture("photos64/astronaut_centre.png"),
                     "--method", "guided", "-o", dir.filePath("m.png")});
    INFO(mixed.err.toStdString());
    REQUIRE(mixed.code == 0);
    CHECK(mixed.err.contains("SiLU (1 call)"));
    CHECK(cli({"saliency", demo(), testSet() + "#0", "--class", "10", "-o", dir.filePath("x.png")}).code == 2);
}

TEST_CASE("cli sanity: guided backprop survives re-initialisation far more than the gradient", "[cli][reconstruct]")
{
    QTemporaryDir dir;
    Run r = cli({"sanity", demo(), testSet() + "#0", "-o", dir.filePath("s.png"), "--csv", dir.filePath("s.csv")});
    INFO(r.err.toStdString());
    REQUIRE(r.code == 0);
    QFile f(dir.filePath("s.csv"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    QTextStream s(&f);
    CHECK(s.readLine() == "method,step,layer,rho");
    std::map<QString, std::vector<double>> rho;
    while (!s.atEnd()) {
        const QStringList cells = s.readLine().split(',');
        REQUIRE(cells.size() == 4);
        rho[cells[0]].push_back(cells[3].toDouble());
    }
    REQUIRE(rho.size() == 4);
    for (const auto &[method, values] : rho) {
        REQUIRE(values.size() == 12); // the original + 11 parameterised layers of the demo
        CHECK(values.front() == 1.0);
        for (double v : values)
            CHECK((v >= -1.0 && v <= 1.0));
    }
    // Adebayo et al.'s finding, on our demo: the gradient depends on the weights, guided backprop much less.
    CHECK(rho["gradient"].back() < 0.4);
    CHECK(rho["guided"].back() > rho["gradient"].back() + 0.15);
    const QImage figure(dir.filePath("s.png"));
    REQUIRE_FALSE(figure.isNull());
    CHECK(figure.width() > figure.height());
}

TEST_CASE("cli top --with-reconstructions draws the two-column figure and caches it", "[cli][reconstruct][store]")
{
    QTemporaryDir dir;
    REQUIRE(cli({"scan", demo(), testSet(), "--limit", "300", "--quiet", "--project", dir.filePath("p")}).code == 0);
    Run poster = cli({"top", dir.filePath("p"), "--layer", "conv 3", "--with-reconstructions", "-o",
                      dir.filePath("poster.png"), "--width", "1200"});
    REQUIRE(poster.code == 0);
    CHECK(QImage(dir.filePath("poster.png")).width() == 1200);
    const QDir cache(dir.filePath("p/scan-1/recon-deconvnet"));
    CHECK(cache.entryList({"*.npy"}).size() == 64);
    const torch::Tensor unit5 = NpyFile::read(cache.filePath("2-5.npy").toStdString());
    CHECK(unit5.size(0) == 9);
    CHECK(unit5.abs().max().item<float>() > 0);
    Run sheet = cli({"top", dir.filePath("p"), "--layer", "conv 3", "--units", "5", "--with-reconstructions",
                     "--method", "guided", "-o", dir.filePath("u.png")});
    REQUIRE(sheet.code == 0);
    CHECK(QDir(dir.filePath("p/scan-1/recon-guided")).entryList({"*.npy"}).size() == 1);
    CHECK(cli({"top", dir.filePath("p"), "--layer", "conv 3", "--units", "5", "--images", "--with-reconstructions",
               "-o", dir.filePath("x.png")}).code == 2);
}
