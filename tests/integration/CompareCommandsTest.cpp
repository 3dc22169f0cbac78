// `convscope compare` on the three bundled demo models (classic, depthwise-separable "mobile", residual) and the
// classic one as ONNX: the table, its CSV and JSON, and the chart. Parameters and multiply-adds must equal `info`'s,
// accuracies `evaluate`'s; where the multiply-adds go must match each architecture; a model that does not load, and
// one whose classes are not the dataset's, give rows that say so while the others are computed.
#include "CatchTorch.h"

#include "CliRunner.h"

#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTextStream>

#include <cmath>
#include <map>

using namespace clirunner;

namespace {

QString demoFile(const char *name)
{
    return QString::fromStdString(testpaths::source() + "/resources/demo/" + name);
}

QJsonObject jsonOf(const Run &r)
{
    QJsonParseError e;
    const QJsonDocument d = QJsonDocument::fromJson(r.out, &e);
    INFO(e.errorString().toStdString() << "\n" << r.out.toStdString());
    REQUIRE(d.isObject());
    return d.object();
}

} // namespace

TEST_CASE("cli compare: the demo models side by side, equal to info and evaluate", "[cli][compare]")
{
    QTemporaryDir dir;
    const QStringList models{demoFile("fashion_cnn.pt"), demoFile("fashion_mobile.pt"), demoFile("fashion_resnet.pt"),
                             demoFile("fashion_cnn.onnx"), fixture("models/truncated.pt"),
                             fixture("models/five_classes.pt")};
    QStringList args{"compare"};
    args << models << "--dataset" << testSet() << "--limit" << "1500" << "--rounds" << "2" << "--json" << "--csv"
         << dir.filePath("c.csv") << "-o" << dir.filePath("chart.png");
    Run r = cli(args, 600000);
    INFO(r.err.toStdString());
    CHECK(r.code == 1); // the truncated model
    CHECK(r.err.contains("truncated.pt"));
    CHECK(r.err.contains("1 model could not be compared"));
    const QJsonObject all = jsonOf(r);
    const QJsonArray rows = all["models"].toArray();
    REQUIRE(rows.size() == models.size());

    std::map<QString, QJsonObject> byFile;
    for (int i = 0; i < rows.size(); ++i) {
        const QJsonObject row = rows[i].toObject();
        CHECK(row["model"].toString() == models[i]); // in the order given
        byFile[models[i].section('/', -1)] = row;
    }
    CHECK(!byFile["truncated.pt"]["error"].toString().isEmpty());
    CHECK(byFile["five_classes.pt"]["error"].toString().isEmpty());
    CHECK(byFile["five_classes.pt"]["accuracy_note"].toString().contains("5 classes"));
    CHECK(byFile["five_classes.pt"]["top1"].isNull());
    CHECK(byFile["five_classes.pt"]["ms_per_image"].toDouble() > 0); // the other columns are still measured

    for (const char *file : {"fashion_cnn.pt", "fashion_mobile.pt", "fashion_resnet.pt", "fashion_cnn.onnx"}) {
        INFO(file);
        const QJsonObject row = byFile[file];
        REQUIRE(row["error"].toString().isEmpty());
        // Parameters and multiply-adds as `convscope info` counts them.
        Run info = cli({"info", demoFile(file), "--json"});
        REQUIRE(info.code == 0);
        const QJsonObject i = jsonOf(info);
        CHECK(row["params"].toInteger() == i["params"].toInteger());
        CHECK(row["macs"].toInteger() == i["macs"].toInteger());
        CHECK(row["params"].toInteger() < 2'000'000 / 4); // every demo model is under 2 MB of float weights
        // Accuracy as `convscope evaluate` computes it on the same images.
        Run eval = cli({"evaluate", demoFile(file), testSet(), "--limit", "1500", "--json", "--quiet"});
        REQUIRE(eval.code == 0);
        const QJsonObject e = jsonOf(eval);
        CHECK(row["top1"].toDouble() == Approx(e["top1"].toDouble()).margin(1e-12));
        CHECK(row["topk"].toDouble() == Approx(e["top5"].toDouble()).margin(1e-12));
        CHECK(row["images"].toInteger() == 1500);
        CHECK(row["top1"].toDouble() > 0.88); // similar accuracy: all three are trained by the same recipe
        CHECK(row["ms_per_image"].toDouble() > 0);
        CHECK(row["images_per_second"].toDouble() > 0);
        CHECK(row["peak_bytes_batch1"].toInteger() > row["weight_bytes"].toInteger());
        CHECK(row["peak_bytes_batch"].toInteger() > row["peak_bytes_batch1"].toInteger());
        CHECK(row["weight_bytes"].toInteger() >= 4 * row["params"].toInteger());
        const QJsonObject share = row["macs_share"].toObject();
        double sum = 0;
        for (const auto &k : share.keys())
            sum += share[k].toDouble();
        CHECK(sum == Approx(1.0).margin(1e-9));
    }
    // Where the work goes: the classic CNN in full 3x3 convolutions, the mobile one in depthwise and pointwise
    // convolutions (pointwise the larger part, as in MobileNet's table), the residual one in full convolutions with
    // a little in its 1x1 projection shortcuts.
    const QJsonObject classic = byFile["fashion_cnn.pt"]["macs_share"].toObject();
    const QJsonObject mobile = byFile["fashion_mobile.pt"]["macs_share"].toObject();
    const QJsonObject residual = byFile["fashion_resnet.pt"]["macs_share"].toObject();
    CHECK(classic["full"].toDouble() > 0.9);
    CHECK(classic["depthwise"].toDouble() == 0);
    CHECK(classic["fully_connected"].toDouble() > 0);
    CHECK(mobile["pointwise"].toDouble() > mobile["depthwise"].toDouble());
    CHECK(mobile["depthwise"].toDouble() > 0.03);
    CHECK(mobile["pointwise"].toDouble() + mobile["depthwise"].toDouble() > 0.8);
    CHECK(residual["full"].toDouble() > 0.9);
    CHECK(residual["pointwise"].toDouble() > 0);
    CHECK(byFile["fashion_mobile.pt"]["macs"].toInteger() < byFile["fashion_cnn.pt"]["macs"].toInteger());
    // The last convolution sees most of a 28x28 image (stride-2 stages) or all of it (with padding: larger).
    for (const char *file : {"fashion_cnn.pt", "fashion_mobile.pt", "fashion_resnet.pt"})
        CHECK(byFile[file]["last_conv_field"].toString().section('x', 0, 0).toInt() >= 10);
    // The ONNX export of the classic model: the same weights, the same accuracy.
    CHECK(byFile["fashion_cnn.onnx"]["top1"].toDouble() ==
          Approx(byFile["fashion_cnn.pt"]["top1"].toDouble()).margin(0.002));

    // CSV: a header and one line per model, numbers equal to the JSON.
    QFile csv(dir.filePath("c.csv"));
    REQUIRE(csv.open(QIODevice::ReadOnly));
    QTextStream s(&csv);
    const QStringList header = s.readLine().split(',');
    CHECK(header.contains("top5"));
    CHECK(header.contains("images_per_second_batch32"));
    int lines = 0;
    while (!s.atEnd()) {
        const QString line = s.readLine();
        if (line.startsWith("\"" + demoFile("fashion_mobile.pt") + "\"")) {
            const QStringList c = line.split(',');
            CHECK(c[header.indexOf("macs")].toLongLong() == byFile["fashion_mobile.pt"]["macs"].toInteger());
            CHECK(c[header.indexOf("top1")].toDouble() ==
                  Approx(byFile["fashion_mobile.pt"]["top1"].toDouble()).margin(1e-6));
        }
        ++lines;
    }
    CHECK(lines == models.size());

    // The chart: a PNG of the default size with a marker per model that has an accuracy (coloured pixels).
    QImage chart(dir.filePath("chart.png"));
    REQUIRE(!chart.isNull());
    CHECK(chart.size() == QSize(900, 600));
    int coloured = 0;
    for (int y = 0; y < chart.height(); y += 2)
        for (int x = 0; x < chart.width(); x += 2) {
            const QColor c = chart.pixelColor(x, y);
            coloured += std::abs(c.red() - c.green()) + std::abs(c.green() - c.blue()) > 60;
        }
    CHECK(coloured > 100);
}

TEST_CASE("cli compare: the table, an SVG chart, and usage errors", "[cli][compare]")
{
    QTemporaryDir dir;
    Run r = cli({"compare", demoFile("fashion_cnn.pt"), demoFile("fashion_mobile.pt"), "--dataset", testSet(),
                 "--limit", "300", "--no-timing", "-o", dir.filePath("chart.svg"), "--quiet"});
    INFO(r.err.toStdString());
    REQUIRE(r.code == 0);
    CHECK(r.out.contains("Fashion-MNIST demo CNN"));
    CHECK(r.out.contains("Fashion-MNIST mobile CNN"));
    CHECK(r.out.contains("depthwise"));
    QFile svg(dir.filePath("chart.svg"));
    REQUIRE(svg.open(QIODevice::ReadOnly));
    const QByteArray text = svg.readAll();
    CHECK(text.contains("<svg"));
    CHECK(text.contains("mobile"));

    CHECK(cli({"compare", demoFile("fashion_cnn.pt")}).code == 2);                                  // no --dataset
    CHECK(cli({"compare", demoFile("fashion_cnn.pt"), "--dataset", dir.filePath("none")}).code != 0); // missing
    CHECK(cli({"compare", demoFile("fashion_cnn.pt"), "--dataset", testSet(), "--limit", "50", "-o",
               dir.filePath("chart.gif")})
              .code == 2);
}
