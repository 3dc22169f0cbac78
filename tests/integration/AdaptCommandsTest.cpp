// Descriptor adaptation end to end: `adapt` on a scanned demo project (unseen classes), its tables and files, the
// adapted index used by `search`, stop-and-resume, and the messages for datasets that cannot be adapted.
#include "CatchTorch.h"

#include "CliRunner.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>

using namespace clirunner;

namespace {

QStringList csvLines(const QString &path)
{
    QFile f(path);
    REQUIRE(f.open(QIODevice::ReadOnly));
    return QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
}

} // namespace

TEST_CASE("cli adapt: before/after and compression tables, the adapted model and index", "[cli][adapt]")
{
    QTemporaryDir dir;
    const QString project = dir.filePath("p");
    REQUIRE(cli({"scan", demo(), testSet(), "--limit", "3000", "--quiet", "--project", project}).code == 0);
    Run adapt = cli({"adapt", project, "--layer", "classifier.fc1", "--train-classes", "0-4", "--epochs", "3",
                     "--dims", "64", "--name", "fc1", "--csv", dir.filePath("t.csv"), "--history",
                     dir.filePath("h.csv")});
    INFO(adapt.out.toStdString() << adapt.err.toStdString());
    REQUIRE(adapt.code == 0);
    CHECK(adapt.out.contains("test: classes 5-9 (unseen)"));
    CHECK(adapt.out.contains("original classifier.fc1 fc, PCA 64"));
    CHECK(adapt.out.contains("adapted (contrastive, hard, 3 epochs), 64-d"));
    const QStringList table = csvLines(dir.filePath("t.csv"));
    REQUIRE(table.size() >= 4);
    CHECK(table[0] == "descriptor,dims,map,precision_at_10,queries");
    // The descriptor is quoted (it holds commas): mAP is the third field from the end.
    const double before = table[2].section(',', -3, -3).toDouble(), after = table[3].section(',', -3, -3).toDouble();
    CHECK(before > 0.2);
    CHECK(after > 0.2);
    CHECK(table.filter(QRegularExpression("^adapted,PQ,64,16,")).size() == 1);
    CHECK(table.filter(QRegularExpression("^original,PCA,32,128,")).size() == 1);
    const QStringList history = csvLines(dir.filePath("h.csv"));
    REQUIRE(history.size() == 4);
    CHECK(history[3].startsWith("3,"));
    CHECK(QFile::exists(project + "/adapt-fc1/model.pt"));
    CHECK(QFile::exists(project + "/adapt-fc1/model.json"));

    // The adapted index answers `search`: query #0 (an ankle boot, class 9: unseen in training).
    Run search = cli({"search", project, "--index", "fc1", testSet() + "#0", "-k", "10", "--json"});
    REQUIRE(search.code == 0);
    const QJsonArray hits = QJsonDocument::fromJson(search.out).array()[0].toObject()["results"].toArray();
    REQUIRE(hits.size() == 10);
    int same = 0;
    for (const auto &h : hits)
        same += h.toObject()["class"].toString() == "Ankle boot" ? 1 : 0;
    CHECK(same >= 8);

    // eval-retrieval compares the adaptation with the original descriptor on its test images, as adapt did.
    Run eval = cli({"eval-retrieval", project, "--adapted", "fc1", "--csv", dir.filePath("e.csv")});
    INFO(eval.err.toStdString());
    REQUIRE(eval.code == 0);
    CHECK(eval.out.contains("fc1 — train: classes 0-4"));
    const QStringList evalCsv = csvLines(dir.filePath("e.csv"));
    REQUIRE(evalCsv.size() == 4);
    CHECK(evalCsv[3].section(',', -3, -3).toDouble() == Approx(after).margin(1e-6));
    Run unknown = cli({"eval-retrieval", project, "--adapted", "nope"});
    CHECK(unknown.code != 0);
    CHECK(unknown.err.contains("adaptations: fc1"));

    // Before/after results for the same queries, as a grid image: 6 rows of query, separator, 8, separator, 8.
    Run grid = cli({"adapt", project, "--layer", "classifier.fc1", "--train-classes", "0-4", "--epochs", "1",
                    "--name", "fc1-grid", "--no-compression", "--grid", dir.filePath("grid.png")});
    REQUIRE(grid.code == 0);
    const QImage sheet(dir.filePath("grid.png"));
    REQUIRE(!sheet.isNull());
    CHECK(sheet.width() > sheet.height() * 2);

    // End to end: the last fully connected layer trained with the head.
    Run tuned = cli({"adapt", project, "--layer", "classifier.fc1", "--train-classes", "0-4", "--epochs", "1",
                     "--name", "fc1-tuned", "--no-compression", "--fine-tune-blocks", "1"});
    INFO(tuned.err.toStdString());
    REQUIRE(tuned.code == 0);
    CHECK(tuned.out.contains("1 epochs, 1 layer fine-tuned"));
    CHECK(QFile::exists(project + "/adapt-fc1-tuned/model.pt"));

    // The same name again needs --resume; resuming to more epochs continues after the saved ones.
    Run again = cli({"adapt", project, "--layer", "classifier.fc1", "--train-classes", "0-4", "--name", "fc1",
                     "--dims", "64"});
    CHECK(again.code != 0);
    CHECK(again.err.contains("--resume"));
    Run more = cli({"adapt", project, "--layer", "classifier.fc1", "--train-classes", "0-4", "--epochs", "4",
                    "--dims", "64", "--name", "fc1", "--resume", "--no-compression"});
    INFO(more.err.toStdString());
    REQUIRE(more.code == 0);
    CHECK(more.out.contains("epoch   3 (saved)"));
    CHECK(more.out.contains("epoch   4  loss"));
    CHECK(!more.out.contains("epoch   1  loss"));
}

TEST_CASE("cli adapt: clear messages for datasets and options it cannot use", "[cli][adapt]")
{
    QTemporaryDir dir;
    // A flat folder of images has no labels.
    QDir().mkpath(dir.filePath("flat"));
    for (int i = 0; i < 6; ++i) {
        QImage im(28, 28, QImage::Format_Grayscale8);
        im.fill(i * 40);
        REQUIRE(im.save(dir.filePath(QString("flat/%1.png").arg(i))));
    }
    const QString project = dir.filePath("p");
    REQUIRE(cli({"scan", demo(), dir.filePath("flat"), "--quiet", "--project", project}).code == 0);
    Run unlabelled = cli({"adapt", project, "--layer", "classifier.fc1", "--name", "x"});
    CHECK(unlabelled.code != 0);
    CHECK(unlabelled.err.contains("no labels"));
    Run noName = cli({"adapt", project, "--layer", "classifier.fc1"});
    CHECK(noName.code != 0);
    CHECK(noName.err.contains("--name"));
    Run badMining = cli({"adapt", project, "--layer", "classifier.fc1", "--name", "x", "--mining", "hardest"});
    CHECK(badMining.code != 0);
    CHECK(badMining.err.contains("unknown mining"));

    // One class only (a class folder with images of one kind).
    QDir().mkpath(dir.filePath("one/shirts"));
    for (int i = 0; i < 4; ++i)
        REQUIRE(QFile::copy(dir.filePath(QString("flat/%1.png").arg(i)), dir.filePath(QString("one/shirts/%1.png").arg(i))));
    const QString single = dir.filePath("q");
    REQUIRE(cli({"scan", demo(), dir.filePath("one"), "--quiet", "--project", single}).code == 0);
    Run oneClass = cli({"adapt", single, "--layer", "classifier.fc1", "--name", "x"});
    CHECK(oneClass.code != 0);
    CHECK(oneClass.err.contains("single class"));
}
