// Scans split into shards (scan --shard I/N, scan --mpi) and merged (merge): the merged project equals one
// uninterrupted scan bit for bit — top-k records, feature matrices, image rows — also after a shard was killed
// with SIGKILL and resumed; mismatched, missing and unfinished shards are refused with a message.
#include "CatchTorch.h"

#include "common/NpyFile.h"
#include "scan/ProjectStore.h"
#include "TestPaths.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <cstring>

#include "CliRunner.h"

using namespace clirunner;

namespace {

QByteArray bytes(const QString &path)
{
    QFile f(path);
    REQUIRE(f.open(QIODevice::ReadOnly));
    return f.readAll();
}

/// Every image row of the project's first whole scan, as text (confidences to `digits` decimals).
std::string imageRows(const QString &project, int digits = 9)
{
    convscope::ProjectStore store(project.toStdString());
    const auto scans = store.scans();
    REQUIRE(scans.size() == 1);
    std::string out;
    store.forEachImage(scans[0].id, [&](const convscope::ProjectStore::ImageRow &r) {
        out += std::to_string(r.index) + "|" + r.name + "|" + std::to_string(r.label) + "|" +
               std::to_string(r.predicted) + "|" + QString::number(r.confidence, 'f', digits).toStdString() + "|" +
               r.skipped + "\n";
    });
    return out;
}

/// The project's top-k CSV (the scan is complete there: `scan` reuses it and only writes the CSV).
QByteArray topCsv(const QStringList &scanArgs, const QString &project, const QString &csv)
{
    Run r = cli(scanArgs + QStringList{"--project", project, "--csv", csv});
    REQUIRE(r.code == 0);
    REQUIRE(r.err.contains("complete already"));
    return bytes(csv);
}

/// The merged project equals the whole one: top-k records of the conv layers bit for bit always; features and
/// image rows bit for bit too when the batches were (nearly) all of the same size (`exact`). Batches of other
/// sizes — a shard's short last batch, a killed shard resumed with another --batch — may round fully connected
/// outputs differently in the last bit (the BLAS splits them differently), so then features and confidences are
/// compared to float precision.
void checkEqual(const QStringList &scanArgs, const QString &whole, const QString &merged, const QString &tmp,
                bool exact)
{
    const QByteArray a = topCsv(scanArgs, whole, tmp + "/whole.csv");
    CHECK(a.count('\n') > 500);
    CHECK(a == topCsv(scanArgs, merged, tmp + "/merged.csv"));
    const QStringList npys = QDir(whole + "/scan-1").entryList({"*.npy"});
    CHECK(npys.size() == 4);
    for (const QString &npy : npys) {
        INFO(npy.toStdString());
        if (exact) {
            CHECK(bytes(whole + "/scan-1/" + npy) == bytes(merged + "/scan-1/" + npy));
        } else {
            const torch::Tensor x = convscope::NpyFile::read((whole + "/scan-1/" + npy).toStdString());
            const torch::Tensor y = convscope::NpyFile::read((merged + "/scan-1/" + npy).toStdString());
            CHECK(x.sizes() == y.sizes());
            CHECK(torch::allclose(x, y, 1e-5, 1e-6, /*equal_nan=*/true)); // skipped images: NaN rows
        }
    }
    CHECK(imageRows(whole, exact ? 9 : 4) == imageRows(merged, exact ? 9 : 4));
}

} // namespace

TEST_CASE("cli scan shards merged equal one scan bit for bit", "[cli][shard]")
{
    QTemporaryDir dir;
    const QStringList common = {"scan", demo(), testSet(), "--limit", "3000", "--quiet"};
    REQUIRE(cli(common + QStringList{"--project", dir.filePath("whole")}).code == 0);
    const QString sharded = dir.filePath("sharded");
    for (const char *shard : {"2/3", "0/3"}) { // any order
        Run r = cli(common + QStringList{"--project", sharded, "--shard", shard});
        REQUIRE(r.code == 0);
        CHECK(r.out.contains("convscope merge"));
    }
    CHECK(QFile::exists(sharded + "/shard-0-of-3/catalog.sqlite"));
    // A missing shard is refused before anything is written.
    Run early = cli({"merge", sharded, "--project", sharded});
    CHECK(early.code != 0);
    CHECK(early.err.contains("shards missing: 1/3"));
    REQUIRE(cli(common + QStringList{"--project", sharded, "--shard", "1/3"}).code == 0);
    Run merged = cli({"merge", sharded + "/shard-0-of-3", sharded + "/shard-1-of-3", sharded + "/shard-2-of-3",
                      "--project", sharded});
    REQUIRE(merged.code == 0);
    CHECK(merged.out.contains("3000 images (0 skipped) from 3 shards"));
    checkEqual(common, dir.filePath("whole"), sharded, dir.path(), true);
    // Again: nothing to do, nothing changed.
    Run again = cli({"merge", sharded, "--project", sharded});
    CHECK(again.code == 0);
    CHECK(again.err.contains("merged already"));
    checkEqual(common, dir.filePath("whole"), sharded, dir.path(), true);
    // The merged project is an ordinary one: `top` draws from it.
    Run top = cli({"top", sharded, "--layer", "features.conv2", "--units", "3", "-o", dir.filePath("u.png")});
    CHECK(top.code == 0);
    CHECK(QImage(dir.filePath("u.png")).width() > 0);
}

TEST_CASE("cli scan shard killed with SIGKILL resumes and merges equal to one scan", "[cli][shard]")
{
    QTemporaryDir dir;
    const QStringList common = {"scan", demo(), testSet(), "--limit", "3000", "--quiet"};
    REQUIRE(cli(common + QStringList{"--project", dir.filePath("whole")}).code == 0);
    const QString sharded = dir.filePath("sharded");
    for (const char *shard : {"0/3", "2/3"})
        REQUIRE(cli(common + QStringList{"--project", sharded, "--shard", shard}).code == 0);
    // Shard 1 in small batches, each recorded: killed after some of them, then resumed.
    QProcess victim;
    victim.setProcessEnvironment(cliEnvironment());
    victim.start(QString::fromStdString(testpaths::cli()),
                 common + QStringList{"--project", sharded, "--shard", "1/3", "--batch", "8", "--checkpoint", "0"});
    REQUIRE(victim.waitForStarted());
    const QString shardDir = sharded + "/shard-1-of-3";
    std::int64_t doneAtKill = 0;
    for (int i = 0; i < 3000 && doneAtKill < 960 + 100; ++i) {
        QThread::msleep(10);
        if (!QFile::exists(shardDir + "/catalog.sqlite"))
            continue;
        try {
            convscope::ProjectStore peek(shardDir.toStdString());
            const auto shards = peek.shards();
            doneAtKill = shards.empty() ? 0 : shards[0].done;
        } catch (const std::exception &) {
        }
    }
    victim.kill(); // no cleanup, no flush
    victim.waitForFinished();
    REQUIRE(doneAtKill >= 1060);
    {
        convscope::ProjectStore peek(shardDir.toStdString());
        REQUIRE_FALSE(peek.shards()[0].complete);
        CHECK(peek.shards()[0].first == 960); // 47 blocks of 64: 15, 16, 16
        CHECK(peek.shards()[0].total == 1984);
        CHECK(peek.scans().empty()); // shards are not whole scans
    }
    Run unfinished = cli({"merge", sharded, "--project", sharded});
    CHECK(unfinished.code != 0);
    CHECK(unfinished.err.contains("shard 1/3"));
    CHECK(unfinished.err.contains("not finished"));
    Run resumed = cli(common + QStringList{"--project", sharded, "--shard", "1/3"});
    REQUIRE(resumed.code == 0);
    CHECK(resumed.err.contains("resuming scan 1 at image"));
    Run merged = cli({"merge", sharded, "--project", dir.filePath("out")});
    REQUIRE(merged.code == 0);
    // Images of the killed shard went through in batches of 8: see checkEqual.
    checkEqual(common, dir.filePath("whole"), dir.filePath("out"), dir.path(), false);
}

TEST_CASE("cli merged shards keep skipped images and their reasons", "[cli][shard]")
{
    // A folder of 40 photos-to-be (noise) with 3 bad files spread over both shards.
    QTemporaryDir dir;
    const QString images = dir.filePath("images");
    QDir().mkpath(images);
    torch::manual_seed(3);
    for (int i = 0; i < 40; ++i) {
        const QString name = images + QString("/%1.png").arg(i, 3, 10, QChar('0'));
        if (i == 5 || i == 30) {
            QFile bad(name);
            REQUIRE(bad.open(QIODevice::WriteOnly));
            bad.write("not a png at all");
            continue;
        }
        QImage im(40, 32, QImage::Format_Grayscale8);
        const torch::Tensor noise = torch::randint(0, 256, {32 * 40}, torch::kUInt8);
        for (int y = 0; y < 32; ++y)
            std::memcpy(im.scanLine(y), noise.data_ptr<std::uint8_t>() + y * 40, 40);
        REQUIRE(im.save(name));
        if (i == 22) { // cut short
            QFile cut(name);
            REQUIRE(cut.open(QIODevice::ReadWrite));
            REQUIRE(cut.resize(cut.size() / 2));
        }
    }
    const QStringList common = {"scan", demo(), images, "--quiet"};
    REQUIRE(cli(common + QStringList{"--project", dir.filePath("whole")}).code == 0);
    for (const char *shard : {"0/2", "1/2"})
        REQUIRE(cli(common + QStringList{"--project", dir.filePath("sharded"), "--shard", shard}).code == 0);
    Run merged = cli({"merge", dir.filePath("sharded"), "--project", dir.filePath("sharded")});
    REQUIRE(merged.code == 0);
    CHECK(merged.out.contains("40 images (3 skipped) from 2 shards"));
    // Shard 0 holds block 0 (images 0-39: one batch, as in the whole scan), shard 1 none: the split says so.
    checkEqual(common, dir.filePath("whole"), dir.filePath("sharded"), dir.path(), true);
    convscope::ProjectStore store(dir.filePath("sharded").toStdString());
    const auto skipped = store.skipped(store.scans().at(0).id);
    REQUIRE(skipped.size() == 3);
    CHECK(skipped[0].index == 5);
    CHECK(skipped[2].index == 30);
    CHECK_FALSE(skipped[1].reason.empty());
}

TEST_CASE("cli merge refuses shards of different scans and splits", "[cli][shard]")
{
    QTemporaryDir dir;
    const QStringList common = {"scan", demo(), testSet(), "--limit", "600", "--quiet", "--layers", "features.conv1"};
    REQUIRE(cli(common + QStringList{"--project", dir.filePath("p"), "--shard", "0/2"}).code == 0);
    REQUIRE(cli(common + QStringList{"--project", dir.filePath("p"), "--shard", "1/2", "--top-k", "5"}).code == 0);
    Run k = cli({"merge", dir.filePath("p"), "--project", dir.filePath("out")});
    CHECK(k.code != 0);
    CHECK(k.err.contains("different scans"));
    CHECK(k.err.contains("top-k (9 vs 5)"));
    // Shard 1/2 scanned again with k 9 beside the k 5 one: the folder holds shards of two scans; --scan picks one.
    REQUIRE(cli(common + QStringList{"--project", dir.filePath("p"), "--shard", "1/2"}).code == 0);
    Run two = cli({"merge", dir.filePath("p"), "--project", dir.filePath("out")});
    CHECK(two.code != 0);
    CHECK(two.err.contains("--scan KEY"));
    QString key;
    for (const QString &line : QString::fromUtf8(two.err).split('\n'))
        if (line.contains("top-9"))
            key = line.trimmed().section(':', 0, 0);
    REQUIRE(key.size() == 12);
    Run picked = cli({"merge", dir.filePath("p"), "--project", dir.filePath("out"), "--scan", key});
    INFO(picked.err.toStdString());
    CHECK(picked.code == 0);
    CHECK(picked.out.contains("600 images (0 skipped) from 2 shards"));
    REQUIRE(cli(common + QStringList{"--project", dir.filePath("q"), "--shard", "0/2"}).code == 0);
    REQUIRE(cli(common + QStringList{"--project", dir.filePath("q"), "--shard", "2/3"}).code == 0);
    Run split = cli({"merge", dir.filePath("q"), "--project", dir.filePath("out")});
    CHECK(split.code != 0);
    CHECK(split.err.contains("different splits"));
    Run notShards = cli({"merge", dir.filePath("out"), "--project", dir.filePath("out2")});
    CHECK(notShards.code != 0);
    Run badSpec = cli(common + QStringList{"--project", dir.filePath("r"), "--shard", "3/3"});
    CHECK(badSpec.code == 2);
    CHECK(badSpec.err.contains("0 <= I < N"));
    // A whole scan and a shard's model differ: the merge names what differs.
    REQUIRE(cli({"scan", QString::fromStdString(testpaths::source() + "/resources/demo/fashion_mobile.pt"), testSet(),
                 "--limit", "600", "--quiet", "--layers", "features.stem", "--project", dir.filePath("m"), "--shard",
                 "1/2"})
                .code == 0);
    Run model = cli({"merge", dir.filePath("q") + "/shard-0-of-2", dir.filePath("m"), "--project", dir.filePath("out")});
    CHECK(model.code != 0);
    CHECK(model.err.contains("the model file"));
}

#ifdef CONVSCOPE_TEST_MPIEXEC
TEST_CASE("cli scan --mpi on 2 ranks equals the single-process scan of the 70000-image demo dataset",
          "[cli][shard][mpi]")
{
    QTemporaryDir dir;
    const QString fashion = QString::fromStdString(testpaths::fashionDir()); // train + test: 70,000 images
    const QStringList common = {"scan", demo(), fashion, "--quiet"};
    REQUIRE(cli(common + QStringList{"--project", dir.filePath("whole")}, 900000).code == 0);

    QProcess mpirun;
    QProcessEnvironment env = cliEnvironment();
    env.insert("OMPI_ALLOW_RUN_AS_ROOT", "1"); // CI runs as root
    env.insert("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    env.insert("OMPI_MCA_rmaps_base_oversubscribe", "1");
    mpirun.setProcessEnvironment(env);
    auto runMpi = [&](const QString &project) {
        mpirun.start(CONVSCOPE_TEST_MPIEXEC, QStringList{"-n", "2", "--oversubscribe",
                                                         QString::fromStdString(testpaths::cli())} +
                                                 common + QStringList{"--project", project, "--mpi"});
        REQUIRE(mpirun.waitForFinished(900000));
        return Run{mpirun.exitStatus() == QProcess::NormalExit ? mpirun.exitCode() : -1,
                   mpirun.readAllStandardOutput(), mpirun.readAllStandardError()};
    };
    // A rank that fails (its shard's catalogue is damaged) stops the job with its message.
    const QString project = dir.filePath("mpi");
    QDir().mkpath(project + "/shard-1-of-2");
    {
        QFile junk(project + "/shard-1-of-2/catalog.sqlite");
        REQUIRE(junk.open(QIODevice::WriteOnly));
        junk.write(QByteArray(8192, 'x'));
    }
    Run failed = runMpi(project);
    CHECK(failed.code != 0);
    CHECK(failed.err.contains("rank 1 of 2"));
    CHECK(failed.err.contains("damaged"));
    QDir(project + "/shard-1-of-2").removeRecursively();
    // Run again: rank 0 resumes its shard, rank 1 starts; rank 0 merges.
    Run ok = runMpi(project);
    INFO(ok.err.toStdString());
    REQUIRE(ok.code == 0);
    CHECK(ok.out.contains("70000 images over 2 ranks"));
    checkEqual(common, dir.filePath("whole"), project, dir.path(), true);
}
#endif
