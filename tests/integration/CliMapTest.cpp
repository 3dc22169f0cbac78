// The dataset map from the command line: t-SNE of the demo's fc2 features, coordinates as CSV and .npy, a poster
// that decodes, and classes that stay together (10-NN label accuracy in the map).
#include "CatchTorch.h"

#include "CliRunner.h"
#include "NpyFile.h"

#include <QImage>
#include <QTextStream>

using namespace clirunner;
using namespace convscope;

TEST_CASE("cli map: t-SNE coordinates, .npy and a thumbnail poster, classes kept together", "[cli][map]")
{
    QTemporaryDir dir;
    const QString project = dir.filePath("p");
    REQUIRE(cli({"scan", demo(), testSet(), "--limit", "1500", "--quiet", "--project", project}).code == 0);
    Run r = cli({"map", project, "--layer", "fc 2", "--coords", dir.filePath("m.csv"), "--npy", dir.filePath("m.npy"),
                 "-o", dir.filePath("m.png"), "--width", "1200"});
    INFO(r.err.toStdString());
    REQUIRE(r.code == 0);
    const int at = r.out.indexOf("accuracy in the map ");
    REQUIRE(at > 0);
    CHECK(r.out.mid(at + 20, 6).toDouble() > 0.85);
    const torch::Tensor coords = NpyFile::read(dir.filePath("m.npy").toStdString());
    REQUIRE(coords.size(0) == 1500);
    REQUIRE(coords.size(1) == 2);
    QFile f(dir.filePath("m.csv"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    QTextStream s(&f);
    CHECK(s.readLine() == "index,name,label,x,y");
    const QStringList first = s.readLine().split(',');
    REQUIRE(first.size() == 5);
    CHECK(first[0] == "0");
    CHECK(first[3].toDouble() == Approx(coords[0][0].item<double>()).epsilon(1e-4));
    const QImage poster(dir.filePath("m.png"));
    REQUIRE(poster.width() == 1200);
    CHECK(cli({"map", project, "--layer", "fc 2", "--method", "umap", "--coords", dir.filePath("x.csv")}).code == 2);
    CHECK(cli({"map", project, "--layer", "fc 2"}).code == 2);
}
