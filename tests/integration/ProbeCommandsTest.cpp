// `convscope probe` on a real scan of the demo: which layer classifies best, the table and its CSV, N per class with
// a spread over splits, and the cases that must not stop the other rows (a layer whose stored features hold NaN)
// or must stop with a clear message (an unlabelled dataset, a layer without features).
#include "CatchTorch.h"

#include "CliRunner.h"

#include "common/NpyFile.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTextStream>

#include <limits>
#include <map>

using namespace clirunner;

namespace {

struct CsvRow {
    QString layer, classifier;
    double accuracy = -1, spread = 0;
    int repeats = 0, trainImages = 0, converged = 0;
    QString error;
};

std::map<QString, CsvRow> readCsv(const QString &path)
{
    QFile f(path);
    REQUIRE(f.open(QIODevice::ReadOnly));
    QTextStream s(&f);
    CHECK(s.readLine() == "layer,descriptor,dims,classifier,train_images,test_images,accuracy,spread,repeats,iterations,"
                          "converged,error");
    std::map<QString, CsvRow> rows;
    while (!s.atEnd()) {
        const QString line = s.readLine();
        const int quote = line.indexOf(",\"");
        const QStringList c = line.left(quote).split(',');
        REQUIRE(c.size() == 11);
        CsvRow r;
        r.layer = c[0];
        r.classifier = c[3];
        r.trainImages = c[4].toInt();
        r.accuracy = c[6].isEmpty() ? -1 : c[6].toDouble();
        r.spread = c[7].toDouble();
        r.repeats = c[8].toInt();
        r.converged = c[10].toInt();
        r.error = line.mid(quote + 2).chopped(1);
        rows[r.layer + " " + r.classifier] = r;
    }
    return rows;
}

} // namespace

TEST_CASE("cli probe: which layer classifies best on the demo", "[cli][probe]")
{
    QTemporaryDir dir;
    const QString project = dir.filePath("p");
    REQUIRE(cli({"scan", demo(), testSet(), "--limit", "4000", "--quiet", "--project", project, "--features",
                 "features.pool1:avg,features.relu4:avg,classifier.fc1,classifier.fc2"})
                .code == 0);
    Run r = cli({"probe", project, "--csv", dir.filePath("t.csv"), "--quiet"});
    INFO(r.out.toStdString() << r.err.toStdString());
    REQUIRE(r.code == 0);
    CHECK(r.out.contains("split: stratified 75/25, seed 1"));
    CHECK(r.out.contains("logreg"));
    CHECK(r.out.contains("svm"));
    auto rows = readCsv(dir.filePath("t.csv"));
    CHECK(rows.size() == 8);
    for (const QString kind : {"logreg", "svm"}) {
        INFO(kind.toStdString());
        const double pool1 = rows[QString("features.pool1 ") + kind].accuracy;
        const double relu4 = rows[QString("features.relu4 ") + kind].accuracy;
        const double fc2 = rows[QString("classifier.fc2 ") + kind].accuracy;
        // DeCAF's finding on the demo: deeper layers classify better; the last hidden layer is near the model's own
        // accuracy (93 % on the test set).
        CHECK(pool1 > 0.5);
        CHECK(relu4 > pool1 + 0.05);
        CHECK(fc2 > relu4);
        CHECK(fc2 >= 0.88);
        CHECK(std::abs(rows[QString("classifier.fc2 ") + kind].trainImages - 3000) <= 10); // 75 % of each class
    }

    // 30 training images per class: five draws, mean ± spread, below the full training set's accuracy.
    Run few = cli({"probe", project, "--per-class", "30", "--classifier", "logreg", "--layers",
                   "features.pool1,classifier.fc2", "--csv", dir.filePath("few.csv"), "--quiet"});
    INFO(few.err.toStdString());
    REQUIRE(few.code == 0);
    CHECK(few.out.contains("±"));
    auto fewRows = readCsv(dir.filePath("few.csv"));
    REQUIRE(fewRows.size() == 2);
    const CsvRow &fc2 = fewRows["classifier.fc2 logreg"];
    CHECK(fc2.repeats == 5);
    CHECK(fc2.trainImages == 300);
    CHECK(fc2.spread > 0);
    CHECK(fc2.accuracy < rows["classifier.fc2 logreg"].accuracy);
    CHECK(fc2.accuracy > fewRows["features.pool1 logreg"].accuracy);

    // A layer whose stored features went NaN for some images: its row says why, the others are computed.
    const QString relu4File = dir.filePath("p/scan-1/features.relu4_avg.npy");
    REQUIRE(QFile::exists(relu4File));
    torch::Tensor relu4 = convscope::NpyFile::read(relu4File.toStdString());
    relu4.slice(0, 10, 20).select(1, 3).fill_(std::numeric_limits<float>::quiet_NaN());
    convscope::NpyFile::write(relu4File.toStdString(), relu4);
    Run nan = cli({"probe", project, "--classifier", "svm", "--csv", dir.filePath("nan.csv"), "--quiet"});
    CHECK(nan.code == 1);
    CHECK(nan.err.contains("could not be probed"));
    auto nanRows = readCsv(dir.filePath("nan.csv"));
    CHECK(nanRows["features.relu4 svm"].accuracy < 0);
    CHECK(nanRows["features.relu4 svm"].error.contains("NaN"));
    CHECK(nanRows["classifier.fc2 svm"].accuracy >= 0.88);

    CHECK(cli({"probe", project, "--layers", "features.conv1"}).code == 2); // no stored features
    CHECK(cli({"probe", project, "--classifier", "forest"}).code == 2);
    CHECK(cli({"probe", dir.filePath("nothing")}).code != 0);
}

TEST_CASE("cli probe refuses an unlabelled dataset with a clear message", "[cli][probe]")
{
    QTemporaryDir dir;
    const QString project = dir.filePath("p");
    REQUIRE(cli({"scan", demo(), fixture("photos64"), "--quiet", "--project", project}).code == 0);
    Run r = cli({"probe", project});
    CHECK(r.code == 6);
    CHECK(r.err.contains("no labels"));
}
