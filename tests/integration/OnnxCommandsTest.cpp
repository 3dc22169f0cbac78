// The CLI on the bundled demo as ONNX (resources/demo/fashion_cnn.onnx, exported from fashion_cnn.pt): info,
// predictions, a scan and reconstructions agree with the TorchScript demo wherever the two models compute the same
// values (the exporter folded each batch norm into its convolution, so compare from the ReLUs on; rounding differs,
// so reconstructions are compared pixel by pixel with room for a near tie that flips).
#include "CatchTorch.h"

#include "common/NpyFile.h"
#include "TestPaths.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "CliRunner.h"

using namespace clirunner;

namespace {

QString onnxDemo() { return QString::fromStdString(testpaths::source() + "/resources/demo/fashion_cnn.onnx"); }

QStringList csvLines(const QString &path)
{
    QFile f(path);
    REQUIRE(f.open(QIODevice::ReadOnly | QIODevice::Text));
    return QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
}

} // namespace

TEST_CASE("cli info reads the ONNX demo: layers, shapes, format and metadata", "[cli][onnx]")
{
    Run r = cli({"info", onnxDemo(), "--json"});
    REQUIRE(r.code == 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    CHECK(o["format"].toString() == "ONNX");
    CHECK(o["format_details"].toObject()["opset"].toString() == "13");
    CHECK(o["format_details"].toObject()["producer"].toString().startsWith("pytorch"));
    CHECK(o["classes"].toInt() == 10);
    CHECK(o["input"].toObject()["width"].toInt() == 28); // from the shared sidecar
    Run ts = cli({"info", demo(), "--json"});
    REQUIRE(ts.code == 0);
    QJsonObject tsShapes;
    for (const auto &v : QJsonDocument::fromJson(ts.out).object()["layers"].toArray())
        tsShapes[v.toObject()["path"].toString()] = v.toObject()["output_shape"];
    QStringList types;
    int same = 0;
    for (const auto &v : o["layers"].toArray()) {
        const QJsonObject l = v.toObject();
        types << l["path"].toString() + ":" + l["type"].toString();
        INFO(l["path"].toString().toStdString());
        REQUIRE(tsShapes.contains(l["path"].toString())); // every ONNX layer is a PyTorch module of the same name
        CHECK(l["output_shape"] == tsShapes[l["path"].toString()]);
        ++same;
    }
    CHECK(same >= 15);
    CHECK(types.contains("features.conv1:Conv"));
    CHECK(types.contains("features.relu4:Relu"));
    CHECK(types.contains("features.pool3:MaxPool"));
    CHECK(types.contains("classifier.fc3:Gemm"));
    Run text = cli({"info", onnxDemo()});
    CHECK(text.code == 0);
    CHECK(text.out.contains("ONNX model"));
    CHECK(text.out.contains("conv+BN"));
}

TEST_CASE("cli predict on the ONNX demo equals the TorchScript demo", "[cli][onnx]")
{
    QStringList images;
    for (int i = 0; i < 20; ++i)
        images << testSet() + "#" + QString::number(i);
    Run a = cli(QStringList{"predict", onnxDemo(), "--json", "-k", "3"} + images);
    Run b = cli(QStringList{"predict", demo(), "--json", "-k", "3"} + images);
    REQUIRE(a.code == 0);
    REQUIRE(b.code == 0);
    const QJsonArray x = QJsonDocument::fromJson(a.out).array(), y = QJsonDocument::fromJson(b.out).array();
    REQUIRE(x.size() == 20);
    for (int i = 0; i < 20; ++i)
        for (int k = 0; k < 3; ++k) {
            const QJsonObject p = x[i].toObject()["predictions"].toArray()[k].toObject();
            const QJsonObject q = y[i].toObject()["predictions"].toArray()[k].toObject();
            CHECK(p["class"].toInt() == q["class"].toInt());
            CHECK(std::abs(p["probability"].toDouble() - q["probability"].toDouble()) < 1e-4);
        }
}

TEST_CASE("cli scan of the ONNX demo finds the TorchScript demo's top-9 images", "[cli][onnx]")
{
    QTemporaryDir dir;
    for (const QString &model : {onnxDemo(), demo()}) {
        const QString name = model == demo() ? "ts" : "onnx";
        Run r = cli({"scan", model, testSet(), "--layers", "features.relu3,classifier.relu5", "--limit", "400",
                     "--batch", "50", "--csv", dir.filePath(name + ".csv"), "--quiet", "--features", "none",
                     "--project", dir.filePath(name)});
        REQUIRE(r.code == 0);
    }
    const QStringList a = csvLines(dir.filePath("onnx.csv")), b = csvLines(dir.filePath("ts.csv"));
    REQUIRE(a.size() == b.size());
    REQUIRE(a.size() > 64 * 9);
    int sameImage = 0;
    for (int i = 1; i < a.size(); ++i) {
        const QStringList x = a[i].split(','), y = b[i].split(',');
        REQUIRE(x.mid(0, 4) == y.mid(0, 4)); // statistic, layer, channel, rank
        sameImage += x[4] == y[4] ? 1 : 0;
    }
    // Folding batch norm changes rounding: near-ties may swap, nothing more.
    CHECK(sameImage >= 0.98 * (a.size() - 1));
}

TEST_CASE("cli reconstruct on the ONNX demo equals the TorchScript demo", "[cli][onnx]")
{
    QTemporaryDir dir;
    for (const char *method : {"deconvnet", "guided", "gradient"}) {
        INFO(method);
        for (const QString &model : {onnxDemo(), demo()}) {
            Run r = cli({"reconstruct", model, testSet() + "#7", "--layer", "features.relu4", "--unit", "11",
                         "--method", method, "-o", dir.filePath(model == demo() ? "ts.npy" : "onnx.npy")});
            REQUIRE(r.code == 0);
        }
        const torch::Tensor a = convscope::NpyFile::read(dir.filePath("onnx.npy").toStdString());
        const torch::Tensor b = convscope::NpyFile::read(dir.filePath("ts.npy").toStdString());
        REQUIRE(a.sizes() == b.sizes());
        // The folded convolutions round differently from conv then BN: where a ReLU gate or a max-pool choice sits
        // on a near tie, a few pixels' paths flip. Everything else is equal.
        const double scale = b.abs().max().item<double>();
        CHECK(scale > 0);
        const double equalShare = ((a - b).abs() <= 1e-4 * scale).to(torch::kDouble).mean().item<double>();
        CHECK(equalShare >= 0.97);
        CHECK(((a - b).norm() / b.norm()).item<double>() <= 0.1);
        CHECK(a.abs().argmax().item<std::int64_t>() == b.abs().argmax().item<std::int64_t>());
    }
}
