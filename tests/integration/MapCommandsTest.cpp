// The dataset map from the command line: t-SNE of the demo's fc2 features, coordinates as CSV and .npy, a poster
// that decodes, and classes that stay together (10-NN label accuracy in the map).
#include "CatchTorch.h"

#include "CliRunner.h"
#include "common/NpyFile.h"

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
    // Grid poster and the TensorBoard-projector bundle.
    Run bundle = cli({"map", project, "--layer", "fc 2", "--iterations", "300", "--grid", "-o", dir.filePath("g.png"),
                      "--width", "1000", "--projector", dir.filePath("tb")});
    REQUIRE(bundle.code == 0);
    CHECK(QImage(dir.filePath("g.png")).width() == 1000);
    QFile config(dir.filePath("tb/projector_config.pbtxt"));
    REQUIRE(config.open(QIODevice::ReadOnly));
    const QByteArray pbtxt = config.readAll();
    CHECK(pbtxt.contains("tensor_shape: 1500"));
    CHECK(pbtxt.contains("tensor_shape: 50"));
    CHECK(pbtxt.contains("image_path: \"sprite.png\""));
    QFile meta(dir.filePath("tb/metadata.tsv"));
    REQUIRE(meta.open(QIODevice::ReadOnly));
    CHECK(meta.readLine().trimmed() == "index\tname\tlabel\tprediction\tmap_x\tmap_y");
    int lines = 1;
    while (!meta.readLine().isEmpty())
        ++lines;
    CHECK(lines == 1501);
    QFile tensors(dir.filePath("tb/tensors.tsv"));
    REQUIRE(tensors.open(QIODevice::ReadOnly));
    CHECK(tensors.readLine().split('\t').size() == 50);
    CHECK(QImage(dir.filePath("tb/sprite.png")).width() == 39 * 28); // ⌈√1500⌉ cells of 28 px
    // UMAP of the same features: classes kept together as well, reproducible with the same seed.
    Run umap = cli({"map", project, "--layer", "fc 2", "--method", "umap", "--npy", dir.filePath("u.npy"), "-o",
                    dir.filePath("u.png"), "--width", "800"});
    INFO(umap.err.toStdString());
    REQUIRE(umap.code == 0);
    CHECK(umap.out.contains("by UMAP"));
    const int uat = umap.out.indexOf("accuracy in the map ");
    REQUIRE(uat > 0);
    CHECK(umap.out.mid(uat + 20, 6).toDouble() > 0.85);
    CHECK(QImage(dir.filePath("u.png")).width() == 800);
    REQUIRE(cli({"map", project, "--layer", "fc 2", "--method", "umap", "--npy", dir.filePath("u2.npy")}).code == 0);
    CHECK(torch::equal(NpyFile::read(dir.filePath("u.npy").toStdString()),
                       NpyFile::read(dir.filePath("u2.npy").toStdString())));
    CHECK(cli({"map", project, "--layer", "fc 2", "--method", "pca", "--coords", dir.filePath("x.csv")}).code == 2);
    CHECK(cli({"map", project, "--layer", "fc 2"}).code == 2);
}

TEST_CASE("cli embed: t-SNE and UMAP of a .npy matrix, 3-D UMAP, labels scored, bad input refused", "[cli][map]")
{
    QTemporaryDir dir;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
    const torch::Tensor centres = 5 * torch::randn({4, 12}, gen);
    const torch::Tensor labels = torch::arange(800) % 4;
    NpyFile::write(dir.filePath("x.npy").toStdString(), centres.index_select(0, labels) + torch::randn({800, 12}, gen));
    NpyFile::write(dir.filePath("l.npy").toStdString(), labels);
    for (const char *method : {"tsne", "umap"}) {
        Run r = cli({"embed", dir.filePath("x.npy"), "--method", method, "-o", dir.filePath("y.npy"), "--csv",
                     dir.filePath("y.csv"), "--labels", dir.filePath("l.npy")});
        INFO(r.err.toStdString());
        REQUIRE(r.code == 0);
        const int at = r.out.indexOf("accuracy in the map ");
        REQUIRE(at > 0);
        CHECK(r.out.mid(at + 20, 6).toDouble() > 0.97);
        const torch::Tensor y = NpyFile::read(dir.filePath("y.npy").toStdString());
        CHECK(y.sizes() == torch::IntArrayRef({800, 2}));
        QFile csv(dir.filePath("y.csv"));
        REQUIRE(csv.open(QIODevice::ReadOnly));
        CHECK(csv.readLine().trimmed() == "index,x,y");
    }
    REQUIRE(cli({"embed", dir.filePath("x.npy"), "--method", "umap", "--dims", "3", "--pca", "8", "-o",
                 dir.filePath("y3.npy")}).code == 0);
    CHECK(NpyFile::read(dir.filePath("y3.npy").toStdString()).size(1) == 3);
    CHECK(cli({"embed", dir.filePath("x.npy"), "--dims", "3", "-o", dir.filePath("z.npy")}).code == 2);
    QFile bad(dir.filePath("bad.npy"));
    REQUIRE(bad.open(QIODevice::WriteOnly));
    bad.write("not a numpy file");
    bad.close();
    const Run broken = cli({"embed", dir.filePath("bad.npy"), "-o", dir.filePath("z.npy")});
    CHECK(broken.code != 0);
    CHECK(broken.code != 134); // a message, not a crash
    CHECK(!broken.err.isEmpty());
}
