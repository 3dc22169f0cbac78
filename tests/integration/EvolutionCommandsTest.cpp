// `convscope evolution` end to end on the demo's checkpoints: the figure, the stability chart and CSV, the table
// on stdout; a second run reuses the stored scans; bad series and usage are refused with their exit codes.
#include "CatchTorch.h"

#include "CliRunner.h"

#include <QFile>
#include <QImage>
#include <QTemporaryDir>

using namespace clirunner;

namespace {

QString checkpoints() { return QString::fromStdString(testpaths::source() + "/resources/demo/checkpoints"); }

} // namespace

TEST_CASE("cli evolution: figure, chart and CSV for the demo's checkpoints", "[cli][evolution]")
{
    QTemporaryDir dir;
    const QString project = dir.filePath("project");
    const QStringList args{"evolution", checkpoints(), "--dataset", testSet(), "--layer", "conv 2", "--limit", "1000",
                           "--project", project, "--strongest", "4", "-o", dir.filePath("figure.png"), "--chart",
                           dir.filePath("chart.svg"), "--csv", dir.filePath("stability.csv"), "--quiet"};
    Run r = cli(args);
    INFO(r.out.toStdString() << r.err.toStdString());
    REQUIRE(r.code == 0);
    CHECK(r.out.contains("Top images kept from one checkpoint to the next"));
    CHECK(r.out.contains("Checkpoints: epoch 0, epoch 1, epoch 2, epoch 4, epoch 9"));
    CHECK(r.out.contains("epoch 4"));
    const QImage figure(dir.filePath("figure.png"));
    REQUIRE_FALSE(figure.isNull());
    CHECK(figure.width() > figure.height() / 2); // 5 columns, 4 rows
    QFile svg(dir.filePath("chart.svg"));
    REQUIRE(svg.open(QIODevice::ReadOnly));
    CHECK(svg.readAll().contains("<svg"));

    QFile csv(dir.filePath("stability.csv"));
    REQUIRE(csv.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList lines = QString::fromUtf8(csv.readAll()).split('\n', Qt::SkipEmptyParts);
    REQUIRE(lines.size() >= 1 + 4 * 4); // header + 4 transitions × at least 4 layers
    CHECK(lines[0] == "layer,from,to,kept,with_last,units_compared");
    for (int i = 1; i < lines.size(); ++i) {
        const QStringList f = lines[i].split(',');
        REQUIRE(f.size() == 6);
        bool ok = false;
        const double kept = f[3].toDouble(&ok);
        CHECK(ok);
        CHECK(kept >= 0.0);
        CHECK(kept <= 1.0);
        CHECK(f[5].toInt() > 0);
    }
    CHECK(lines[1].contains("\"epoch 0\",\"epoch 1\""));

    // The same command again finds every scan stored.
    Run again = cli(args);
    REQUIRE(again.code == 0);
    CHECK(again.out == r.out);
}

TEST_CASE("cli evolution: refuses one checkpoint, other architectures and missing options", "[cli][evolution]")
{
    QTemporaryDir dir;
    const QString demoDir = QString::fromStdString(testpaths::source() + "/resources/demo");
    Run one = cli({"evolution", demo(), "--dataset", testSet(), "--layer", "conv 2", "-o", dir.filePath("f.png")});
    CHECK(one.code == 2);
    CHECK(one.err.contains("at least 2 checkpoints"));
    Run mixed = cli({"evolution", demo(), demoDir + "/fashion_mobile.pt", "--dataset", testSet(), "--layer",
                     "conv 2", "--limit", "64", "--project", dir.filePath("p"), "-o", dir.filePath("f.png"),
                     "--quiet"});
    CHECK(mixed.code == 6); // DataError
    CHECK(mixed.err.contains("fashion_mobile"));
    CHECK(cli({"evolution", checkpoints(), "--layer", "conv 2", "-o", dir.filePath("f.png")}).code == 2);
    CHECK(cli({"evolution", checkpoints(), "--dataset", testSet(), "-o", dir.filePath("f.png")}).code == 2);
}
