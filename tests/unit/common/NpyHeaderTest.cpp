// .npy headers parsed from memory (the code NpyFile::read and the fuzz target share): numpy's own headers, and the
// inputs that crashed or exhausted the old regex-based reader, which now give a DataError.
#include "CatchTorch.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "common/NpyHeader.h"
#include "TestPaths.h"

#include <QFile>
#include <QTemporaryDir>

using namespace convscope;

namespace {

/// A header around `dict` (padded as numpy pads it; version 2 when the dict needs a 4-byte length), then `data`.
std::string npy(const std::string &dict, const std::string &data = {})
{
    const bool v2 = dict.size() + 64 > 65535;
    const size_t preamble = v2 ? 12 : 10;
    std::string d = dict;
    d.append((64 - (preamble + d.size() + 1) % 64) % 64, ' ');
    d += '\n';
    std::string out(v2 ? "\x93NUMPY\x02\x00" : "\x93NUMPY\x01\x00", 8);
    for (size_t i = 0; i < preamble - 8; ++i)
        out += static_cast<char>((d.size() >> (8 * i)) & 0xff);
    return out + d + data;
}

NpyHeader parse(const std::string &bytes)
{
    return NpyHeader::parse(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(), "t.npy");
}

std::string writeFile(const QTemporaryDir &dir, const std::string &bytes)
{
    const QString path = dir.filePath("t.npy");
    QFile f(path);
    REQUIRE(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(bytes.data(), static_cast<qint64>(bytes.size()));
    return path.toStdString();
}

} // namespace

TEST_CASE("npy header: numpy's headers and ours", "[common][npy]")
{
    QFile f(QString::fromStdString(testpaths::fixtures() + "/npy/f32.npy"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    const QByteArray numpy = f.readAll();
    const NpyHeader h = NpyHeader::parse(reinterpret_cast<const unsigned char *>(numpy.constData()),
                                         static_cast<std::size_t>(numpy.size()), "f32.npy");
    CHECK(h.descr == "<f4");
    CHECK(h.shape == std::vector<std::int64_t>{2, 3, 4});
    CHECK(h.dataOffset % 64 == 0);
    CHECK(h.dataBytes() == 96);
    const std::string ours = NpyFile::header(torch::kInt64, {5});
    CHECK(parse(ours).shape == std::vector<std::int64_t>{5});
    CHECK(parse(NpyFile::header(torch::kUInt8, {})).count() == 1);
    const NpyHeader loose = parse(npy("{\"shape\": (3L, 0), 'descr':'|b1','fortran_order':False}"));
    CHECK(loose.shape == std::vector<std::int64_t>{3, 0});
    CHECK(loose.dataBytes() == 0);
}

TEST_CASE("npy header: malformed headers give a DataError (fuzz regressions)", "[common][npy][errors]")
{
    for (const std::string &bad :
         {npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }"),
          npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }"),
          npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"),
          npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"),
          npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"),
          npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
          npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,"), npy("{'descr': '<f4"),
          npy("{'descr': '<f4', 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)}"),
          npy("{'shape': (2,), }"), npy("{'descr': '<f4', 'order': 'C', 'shape': (2,)}"),
          std::string("\x93NUMPY\x07\x00\x10\x00", 10), std::string("\x93NUMPY\x01\x00\xff\xff", 10),
          std::string("\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12), std::string("\x93NUMP", 5)})
        CHECK_THROWS_AS(parse(bad), DataError);
}

TEST_CASE("npy files: a header that announces more data than the file holds allocates nothing",
          "[common][npy][errors]")
{
    QTemporaryDir dir;
    // 4 TB announced, 8 bytes present: the old reader asked LibTorch for the 4 TB before reading.
    const std::string huge = writeFile(dir, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }",
                                                std::string(8, '\0')));
    CHECK_THROWS_WITH(NpyFile::read(huge), Catch::Contains("truncated .npy data"));
    // A shape of 200,000 digits: the old std::regex search recursed once per character and overflowed the stack.
    const std::string digits = writeFile(dir, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                                                  std::string(200000, '1') + "), }"));
    CHECK_THROWS_AS(NpyFile::read(digits), DataError);
    const std::string quote = writeFile(dir, npy("{'descr': '" + std::string(200000, 'f')));
    CHECK_THROWS_AS(NpyFile::read(quote), DataError);
    const std::string exact = writeFile(dir, npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                                                 std::string("\x01\0\0\0\x02\0\0\0", 8)));
    CHECK(NpyFile::read(exact)[1].item<int>() == 2);
}
