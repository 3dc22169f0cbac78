// `convscope synthesize` end to end: a sheet and the images as .npy, the comparison with a scanned project's best
// dataset images, seeds, class scores, RGB models at another size, and usage errors.
#include "CatchTorch.h"

#include "CliRunner.h"
#include "common/NpyFile.h"

#include <QImage>
#include <QRegularExpression>
#include <QTemporaryDir>

using namespace clirunner;
using namespace convscope;

TEST_CASE("cli synthesize: sheet, images and the ratio over the best dataset image", "[cli][synthesize]")
{
    QTemporaryDir dir;
    const QString project = dir.filePath("project");
    REQUIRE(cli({"scan", demo(), testSet(), "--limit", "1000", "--quiet", "--project", project, "--features",
                 "none"}).code == 0);
    Run r = cli({"synthesize", demo(), "--layer", "features.conv2", "--units", "0-7", "--steps", "96", "--project",
                 project, "-o", dir.filePath("sheet.png"), "--npy", dir.filePath("images.npy"), "--width", "600"});
    INFO(r.out.toStdString() << r.err.toStdString());
    REQUIRE(r.code == 0);
    const QImage sheet(dir.filePath("sheet.png"));
    REQUIRE_FALSE(sheet.isNull());
    CHECK(sheet.width() == 600);
    const torch::Tensor images = NpyFile::read(dir.filePath("images.npy").toStdString());
    REQUIRE(images.sizes() == torch::IntArrayRef({8, 1, 28, 28}));
    CHECK(images.min().item<float>() >= 0.f);
    CHECK(images.max().item<float>() <= 1.f);
    CHECK(images.std().item<float>() > 0.05f); // not a flat grey
    const auto m = QRegularExpression("(\\d+) of 8 images excite their unit more than its best image")
                       .match(QString::fromUtf8(r.out));
    REQUIRE(m.hasMatch());
    CHECK(m.captured(1).toInt() >= 7);

    // The same seed gives the same images; another seed others.
    REQUIRE(cli({"synthesize", demo(), "--layer", "features.conv2", "--units", "0-7", "--steps", "96", "-o",
                 dir.filePath("again.png"), "--npy", dir.filePath("again.npy")}).code == 0);
    CHECK(torch::equal(NpyFile::read(dir.filePath("again.npy").toStdString()), images));
    REQUIRE(cli({"synthesize", demo(), "--layer", "features.conv2", "--units", "0", "--steps", "8", "--seed", "9",
                 "-o", dir.filePath("other.png"), "--npy", dir.filePath("other.npy")}).code == 0);
    CHECK_FALSE(torch::equal(NpyFile::read(dir.filePath("other.npy").toStdString())[0], images[0]));
}

TEST_CASE("cli synthesize: class scores, diverse images, RGB at another size, and bad usage", "[cli][synthesize]")
{
    QTemporaryDir dir;
    Run logits = cli({"synthesize", demo(), "--layer", "output", "--units", "7", "--images", "3", "--steps", "24",
                      "--regularizer", "tv", "-o", dir.filePath("sneaker.png"), "--npy", dir.filePath("s.npy")});
    INFO(logits.err.toStdString());
    REQUIRE(logits.code == 0);
    CHECK(NpyFile::read(dir.filePath("s.npy").toStdString()).size(0) == 3);

    const QString rgb = fixture("synthesis/rgb.pt");
    Run big = cli({"synthesize", rgb, "--layer", "conv2", "--units", "1,2", "--size", "48", "--steps", "8", "--objective",
                   "channel",
                   "--regularizer", "blur", "--weight", "0.5", "-o", dir.filePath("rgb.svg"), "--npy",
                   dir.filePath("rgb.npy")});
    INFO(big.err.toStdString());
    REQUIRE(big.code == 0);
    CHECK(NpyFile::read(dir.filePath("rgb.npy").toStdString()).sizes() == torch::IntArrayRef({2, 3, 48, 48}));
    CHECK(QFile(dir.filePath("rgb.svg")).size() > 1000);

    // Usage errors: exit 2 with a message.
    for (const QStringList &bad : {
             QStringList{"synthesize", demo(), "--layer", "features.relu2", "--units", "64", "-o", dir.filePath("x.png")},
             QStringList{"synthesize", demo(), "--layer", "output", "--at", "1,1", "-o", dir.filePath("x.png")},
             QStringList{"synthesize", demo(), "--layer", "features.relu2"},
             QStringList{"synthesize", demo(), "--layer", "features.relu2", "--objective", "texture", "-o",
                         dir.filePath("x.png")},
             QStringList{"synthesize", demo(), "--layer", "features.relu2", "--objective", "channel", "--at", "1,1",
                         "-o", dir.filePath("x.png")},
             QStringList{"synthesize", demo(), "--layer", "features.relu2", "--weight", "2", "-o", dir.filePath("x.png")},
             QStringList{"synthesize", demo(), "--layer", "features.relu2", "--regularizer", "sharp", "-o",
                         dir.filePath("x.png")},
             QStringList{"synthesize", demo(), "--layer", "nope", "-o", dir.filePath("x.png")},
         }) {
        INFO(bad.join(' ').toStdString());
        Run r = cli(bad);
        CHECK(r.code == 2);
        CHECK_FALSE(r.err.isEmpty());
    }
    // A project without a scan of this model: a data error, not a crash.
    Run none = cli({"synthesize", demo(), "--layer", "features.relu2", "--units", "0", "--steps", "2", "--project",
                    dir.filePath("empty"), "-o", dir.filePath("x.png")});
    CHECK(none.code != 0);
    CHECK(none.code != 2);
    CHECK(none.err.contains("holds no complete scan"));
}
