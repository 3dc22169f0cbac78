// The model-archive check: damaged copies of the demo model (made here from the real file) are refused with a
// ModelLoadError that says what is wrong, before LibTorch reads them — one of them crashes LibTorch 1.13 outright.
#include "CatchTorch.h"

#include "common/Error.h"
#include "model/Model.h"
#include "model/ModelArchive.h"
#include "TestPaths.h"

#include <QFile>
#include <QTemporaryDir>

#include <cstring>

using namespace convscope;

namespace {

QByteArray demoBytes()
{
    QFile f(QString::fromStdString(testpaths::demoModel()));
    REQUIRE(f.open(QIODevice::ReadOnly));
    return f.readAll();
}

/// The message check() gives for `bytes`, or "accepted".
std::string verdict(const QByteArray &bytes)
{
    try {
        ModelArchive::check(reinterpret_cast<const unsigned char *>(bytes.constData()),
                            static_cast<std::size_t>(bytes.size()), "damaged.pt");
    } catch (const ModelLoadError &e) {
        return e.what();
    }
    return "accepted";
}

void putU32(QByteArray &b, qsizetype at, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

/// Offset of the central directory entry of `name` (its "PK\1\2").
qsizetype centralEntry(const QByteArray &b, const std::string &name)
{
    const qsizetype at = b.lastIndexOf(QByteArray::fromStdString(name));
    REQUIRE(at > 46);
    REQUIRE(b.mid(at - 46, 4) == QByteArray("PK\x01\x02", 4));
    return at - 46;
}

const ModelArchive::Entry &entry(const ModelArchive &a, const std::string &name)
{
    for (const auto &e : a.entries())
        if (e.name == name)
            return e;
    FAIL("no entry " << name);
    return a.entries().front();
}

} // namespace

TEST_CASE("archive check: the real models pass and their records are found", "[model][archive]")
{
    const QByteArray demo = demoBytes();
    const auto a = ModelArchive::check(reinterpret_cast<const unsigned char *>(demo.constData()),
                                       static_cast<std::size_t>(demo.size()), "fashion_cnn.pt");
    CHECK(a.root() == "fashion_cnn");
    CHECK(a.contains("data.pkl"));
    CHECK(a.contains("constants.pkl"));
    CHECK(a.containsFolder("code"));
    const auto &constants = entry(a, "fashion_cnn/constants.pkl");
    CHECK(demo.mid(static_cast<qsizetype>(constants.dataOffset), 4) == QByteArray("\x80\x02).", 4));
    CHECK_NOTHROW(ModelArchive::checkFile(testpaths::fixtures() + "/models/vector.pt"));
    CHECK_NOTHROW(Model::load(testpaths::demoModel()));
}

TEST_CASE("archive check: truncated files and damaged central directories are refused", "[model][archive][errors]")
{
    const QByteArray demo = demoBytes();
    const qsizetype cd = centralEntry(demo, "fashion_cnn/data/0");
    CHECK(verdict(demo.left(demo.size() / 2)).find("truncated") != std::string::npos);
    CHECK(verdict(demo.left(demo.size() - 1)).find("truncated") != std::string::npos);
    CHECK(verdict(demo.left(cd + 100)).find("truncated") != std::string::npos);

    QByteArray far = demo; // a local header offset beyond the file
    putU32(far, cd + 42, 0x7fffffff);
    CHECK(verdict(far).find("not where its central directory entry says") != std::string::npos);
    QByteArray sizes = demo; // a record larger than the space before the directory
    putU32(sizes, cd + 20, 0x7ffffff0);
    putU32(sizes, cd + 24, 0x7ffffff0);
    CHECK(verdict(sizes).find("runs past") != std::string::npos);
    QByteArray signature = demo; // the entry's own signature overwritten
    signature[cd + 1] = 'X';
    CHECK(verdict(signature).find("central directory is damaged") != std::string::npos);
    QByteArray renamed = demo; // a flipped byte in a name: the local header no longer matches
    renamed[cd + 46 + 3] = static_cast<char>(renamed[cd + 46 + 3] ^ 0x20);
    CHECK(verdict(renamed).find("does not name") != std::string::npos);
    QByteArray end = demo; // the end record's directory offset moved past the end
    const qsizetype eocd = demo.lastIndexOf(QByteArray("PK\x05\x06", 4));
    putU32(end, eocd + 16, static_cast<std::uint32_t>(demo.size()));
    CHECK(verdict(end).find("zip64 end record contradicts") != std::string::npos);
    for (const QByteArray &bad : {far, sizes, signature, renamed, end})
        CHECK(verdict(bad).find("damaged.pt") != std::string::npos);
}

TEST_CASE("archive check: a changed pickle that crashes LibTorch fails its checksum first", "[model][archive][errors]")
{
    // constants.pkl "\x80\x02)." (an empty tuple) made "\x80\x02Q." (BINPERSID on an empty stack): LibTorch 1.13's
    // unpickler dereferences an empty stack and the process dies with SIGSEGV (checked with `convscope info`).
    QByteArray demo = demoBytes();
    const auto a = ModelArchive::parse(reinterpret_cast<const unsigned char *>(demo.constData()),
                                       static_cast<std::size_t>(demo.size()), "fashion_cnn.pt");
    demo[static_cast<qsizetype>(entry(a, "fashion_cnn/constants.pkl").dataOffset) + 2] = 'Q';
    CHECK(verdict(demo).find("do not match their checksum") != std::string::npos);
    CHECK(verdict(demo).find("fashion_cnn/constants.pkl") != std::string::npos);

    QTemporaryDir dir;
    const QString path = dir.filePath("crashes_libtorch.pt");
    QFile f(path);
    REQUIRE(f.open(QIODevice::WriteOnly));
    f.write(demo);
    f.close();
    CHECK_THROWS_AS(Model::load(path.toStdString()), ModelLoadError);
}

TEST_CASE("archive check: zip files that are not TorchScript say what they are", "[model][archive][errors]")
{
    CHECK_THROWS_WITH(ModelArchive::checkFile(testpaths::fixtures() + "/models/state_dict.pt"),
                      Catch::Contains("not a TorchScript model") && Catch::Contains("torch.jit.script"));
    CHECK_THROWS_WITH(Model::load(testpaths::fixtures() + "/models/truncated.pt"), Catch::Contains("truncated"));
    const QByteArray empty("PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22); // an empty zip
    CHECK(verdict(empty).find("holds no records") != std::string::npos);
    QByteArray outside = empty; // one entry of 46 bytes announced at offset 0 of a 22-byte file
    outside[8] = outside[10] = 1;
    putU32(outside, 12, 46);
    CHECK(verdict(outside).find("lies outside the file") != std::string::npos);
}
