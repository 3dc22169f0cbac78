// The CLI's scan commands end to end (scan, top): records equal the PyTorch reference, kill -9 resumes, a full
// disk stops cleanly, posters decode.
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

#include "CliRunner.h"

using namespace clirunner;

TEST_CASE("cli scan writes the top-k records as CSV, equal to the PyTorch reference", "[cli]")
{
    QTemporaryDir dir;
    Run r = cli({"scan", demo(), testSet(), "--layers", "features.conv3", "--limit", "500", "--batch", "50", "--csv",
                 dir.filePath("top.csv"), "--quiet", "--project", dir.filePath("project")});
    REQUIRE(r.code == 0);
    CHECK(QFile::exists(dir.filePath("project/catalog.sqlite")));
    QFile f(dir.filePath("top.csv"));
    REQUIRE(f.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    REQUIRE(lines.size() == 1 + 2 * 64 * 9);
    QFile reff(fixture("demo/scan_reference.json"));
    REQUIRE(reff.open(QIODevice::ReadOnly));
    const QJsonArray ref = QJsonDocument::fromJson(reff.readAll()).object()["layers"].toObject()["features.conv3"]
                               .toObject()["max"].toArray();
    // Rows "max,features.conv3,channel,rank,image,...": the chosen images per channel equal the reference's.
    for (const QString &line : lines.mid(1, 64 * 9)) {
        const QStringList cells = line.split(',');
        const int channel = cells[2].toInt(), rank = cells[3].toInt();
        CHECK(cells[4].toInt() == ref[channel].toArray()[rank].toArray()[0].toInt());
    }
    CHECK(lines[1].contains("t10k-images-idx3-ubyte.gz#"));
    Run bad = cli({"scan", demo(), testSet(), "--csv", "/nonexistent/dir/x.csv"});
    CHECK(bad.code == 3);
    // The idx files' folder is read-only: the default project goes under the user's data folder.
    Run def = cli({"scan", demo(), testSet(), "--layers", "features.conv1", "--limit", "64", "--quiet",
                   "--features", "none"});
    REQUIRE(def.code == 0);
    CHECK(def.out.contains((testHome() + "/.local/share/convscope/projects/t10k-images-idx3-ubyte").toUtf8()));
}

TEST_CASE("cli scan killed with SIGKILL resumes and equals an uninterrupted scan", "[cli][store]")
{
    QTemporaryDir dir;
    const QStringList common = {"scan", demo(), testSet(), "--limit", "4000", "--quiet"};
    Run whole = cli(common + QStringList{"--project", dir.filePath("a"), "--csv", dir.filePath("a.csv")});
    REQUIRE(whole.code == 0);

    // Small batches recorded one by one make many commits; kill the process once some are in.
    QProcess victim;
    victim.setProcessEnvironment(cliEnvironment());
    victim.start(QString::fromStdString(testpaths::cli()), common + QStringList{"--project", dir.filePath("b"),
                                                                                "--batch", "8", "--checkpoint", "0"});
    REQUIRE(victim.waitForStarted());
    std::int64_t doneAtKill = 0;
    for (int i = 0; i < 3000 && doneAtKill < 200; ++i) {
        QThread::msleep(10);
        if (!QFile::exists(dir.filePath("b/catalog.sqlite")))
            continue;
        try {
            convscope::ProjectStore peek(dir.filePath("b").toStdString());
            const auto scans = peek.scans();
            doneAtKill = scans.empty() ? 0 : scans[0].done;
        } catch (const std::exception &) {
        }
    }
    victim.kill(); // SIGKILL: no cleanup, no flush
    victim.waitForFinished();
    REQUIRE(doneAtKill >= 200);
    {
        convscope::ProjectStore peek(dir.filePath("b").toStdString());
        REQUIRE_FALSE(peek.scans()[0].complete);
        CHECK(peek.scans()[0].done < 4000);
    }
    Run resumed = cli(common + QStringList{"--project", dir.filePath("b"), "--csv", dir.filePath("b.csv"), "--batch",
                                           "100"});
    REQUIRE(resumed.code == 0);
    CHECK(resumed.err.contains("resuming scan 1 at image"));
    QFile a(dir.filePath("a.csv")), b(dir.filePath("b.csv"));
    REQUIRE(a.open(QIODevice::ReadOnly));
    REQUIRE(b.open(QIODevice::ReadOnly));
    const QByteArray ca = a.readAll();
    CHECK(ca.count('\n') > 4000);
    CHECK(ca == b.readAll());
    for (const char *feature : {"classifier.fc1.npy", "features_avg.npy"}) {
        torch::Tensor fa = convscope::NpyFile::read(dir.filePath(QString("a/scan-1/") + feature).toStdString());
        torch::Tensor fb = convscope::NpyFile::read(dir.filePath(QString("b/scan-1/") + feature).toStdString());
        CHECK(fa.size(0) == 4000);
        CHECK(torch::allclose(fa, fb, 1e-5, 1e-6));
    }
    // Run again: complete, reused.
    Run reused = cli(common + QStringList{"--project", dir.filePath("b")});
    CHECK(reused.err.contains("complete already"));
}

TEST_CASE("cli scan on a full disk stops with a clear error and a consistent store", "[cli][store][errors]")
{
    QTemporaryDir dir;
    const QStringList args = {"scan", demo(), testSet(), "--limit", "3000", "--quiet", "--project",
                              dir.filePath("p"), "--csv", dir.filePath("x.csv")};
    // A 1 MB file-size limit: the fc1 feature matrix (3000 × 256 floats) cannot be written.
    QProcess full;
    full.setProcessEnvironment(cliEnvironment());
    full.start("/bin/bash", QStringList{"-c", "ulimit -f 1024; exec \"$0\" \"$@\"",
                                        QString::fromStdString(testpaths::cli())} + args);
    REQUIRE(full.waitForFinished(300000));
    CHECK(full.exitStatus() == QProcess::NormalExit);
    CHECK(full.exitCode() == 3);
    CHECK(full.readAllStandardError().contains("disk full"));
    // Without the limit the same command completes from the consistent store.
    Run r = cli(args);
    REQUIRE(r.code == 0);
    CHECK(r.out.contains("scan 1: 3000 images"));
}

TEST_CASE("cli top draws posters and contact sheets from a project", "[cli][store]")
{
    QTemporaryDir dir;
    Run scan = cli({"scan", demo(), testSet(), "--limit", "300", "--quiet", "--project", dir.filePath("p")});
    REQUIRE(scan.code == 0);
    Run poster = cli({"top", dir.filePath("p"), "--layer", "conv 2", "-o", dir.filePath("poster.png"), "--width",
                      "1600"});
    REQUIRE(poster.code == 0);
    CHECK(poster.out.contains("64 units of features.conv2"));
    const QImage image(dir.filePath("poster.png"));
    REQUIRE_FALSE(image.isNull());
    CHECK(image.width() == 1600);
    Run sheets = cli({"top", dir.filePath("p"), "--layer", "features.conv4", "--units", "3,5-6", "-o",
                      dir.filePath("unit.svg")});
    REQUIRE(sheets.code == 0);
    for (const char *f : {"unit_u3.svg", "unit_u5.svg", "unit_u6.svg"}) {
        QFile svg(dir.filePath(f));
        REQUIRE(svg.open(QIODevice::ReadOnly));
        CHECK(svg.readAll().contains("<svg"));
    }
    Run images = cli({"top", dir.filePath("p"), "--layer", "features", "--units", "0", "--images", "-o",
                      dir.filePath("img.png")});
    REQUIRE(images.code == 0);
    const QImage plain(dir.filePath("img.png"));
    REQUIRE_FALSE(plain.isNull());
    // The same images with the unit's response laid over them: same layout, warmer (the red-yellow ramp).
    Run overlaid = cli({"top", dir.filePath("p"), "--layer", "features", "--units", "0", "--images", "--response",
                        "-o", dir.filePath("resp.png")});
    REQUIRE(overlaid.code == 0);
    const QImage response(dir.filePath("resp.png"));
    REQUIRE(response.size() == plain.size());
    auto redMinusBlue = [](const QImage &im) {
        double d = 0;
        for (int y = 0; y < im.height(); y += 3)
            for (int x = 0; x < im.width(); x += 3)
                d += qRed(im.pixel(x, y)) - qBlue(im.pixel(x, y));
        return d;
    };
    CHECK(redMinusBlue(response) > redMinusBlue(plain) + 1000);
    CHECK(cli({"top", dir.filePath("p"), "--layer", "features", "--units", "0", "--response", "-o",
               dir.filePath("x.png")}).code == 2);
    CHECK(cli({"top", dir.filePath("p"), "--layer", "classifier.fc1", "-o", dir.filePath("x.png")}).code == 2);
    CHECK(cli({"top", dir.filePath("p"), "--layer", "features.conv4", "--units", "999", "-o",
               dir.filePath("x.png")}).code == 2);
    CHECK(cli({"top", dir.filePath("empty"), "--layer", "x", "-o", dir.filePath("x.png")}).code == 6);
}

TEST_CASE("cli top finds the newest scan that has the layer, past a later features-only scan", "[cli][scan]")
{
    QTemporaryDir dir;
    const QString project = dir.filePath("p");
    REQUIRE(cli({"scan", demo(), testSet(), "--limit", "300", "--quiet", "--project", project}).code == 0);
    // `index` on a layer whose features the scan did not keep runs a features-only scan of its own (newer).
    Run index = cli({"index", project, "--layer", "features.conv2", "--descriptor", "spoc"});
    INFO(index.err.toStdString());
    REQUIRE(index.code == 0);
    Run top = cli({"top", project, "--layer", "features.conv1", "-o", dir.filePath("conv1.png")});
    INFO(top.err.toStdString());
    CHECK(top.code == 0);
    CHECK(!QImage(dir.filePath("conv1.png")).isNull());
}
