// IDX files parsed from memory (the code IdxSource and the fuzz target share): Fashion-MNIST's real files, gzip
// members, and damaged files that must give a DataError.
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/IdxFile.h"
#include "TestPaths.h"

#include <zlib.h>

using namespace convscope;

namespace {

std::vector<unsigned char> bytes(const std::string &s) { return {s.begin(), s.end()}; }

std::vector<unsigned char> gzip(const std::vector<unsigned char> &plain)
{
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::vector<unsigned char> out(deflateBound(&z, static_cast<uLong>(plain.size())) + 32);
    z.next_in = const_cast<unsigned char *>(plain.data());
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::vector<unsigned char> decode(const std::vector<unsigned char> &b)
{
    return IdxFile::decode(b.data(), b.size(), "x-images-idx3-ubyte");
}

} // namespace

TEST_CASE("idx file: Fashion-MNIST's real files", "[data][idx]")
{
    const auto images = IdxFile::read(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz");
    const IdxFile::Images im = IdxFile::images(images, "t10k");
    CHECK(im.count == 10000);
    CHECK(im.rows == 28);
    CHECK(im.cols == 28);
    const auto labels = IdxFile::labels(IdxFile::read(testpaths::fashionDir() + "/t10k-labels-idx1-ubyte.gz"),
                                        im.count, "labels", "t10k");
    CHECK(labels.at(0) == 9);
    CHECK(labels.at(1) == 2);
}

TEST_CASE("idx file: gzip members, plain bytes, trailing bytes", "[data][idx]")
{
    const auto head = bytes(std::string("\0\0\x08\x01\0\0\0\x02", 8));
    const auto tail = bytes("\x05\x07");
    auto two = gzip(head);
    const auto second = gzip(tail);
    two.insert(two.end(), second.begin(), second.end());
    CHECK(IdxFile::labels(decode(two), 2, "l", "i") == std::vector<int>{5, 7});
    two.push_back(0); // anything after the last member is ignored, as gzread does
    CHECK(decode(two).size() == 10);
    CHECK(decode(head) == head);
    CHECK(decode({}).empty());
}

TEST_CASE("idx file: damaged files give a DataError (fuzz regressions)", "[data][idx][errors]")
{
    const auto header = bytes(std::string("\0\0\x08\x03\0\0\0\x02\0\0\0\x02\0\0\0\x02", 16));
    auto complete = header;
    complete.insert(complete.end(), 8, 1);
    CHECK(IdxFile::images(complete, "x").count == 2);
    auto gz = gzip(complete);
    CHECK_THROWS_WITH(decode({gz.begin(), gz.end() - 5}), Catch::Contains("cut short"));
    gz[12] = static_cast<unsigned char>(gz[12] ^ 0xff);
    CHECK_THROWS_AS(decode(gz), DataError);
    CHECK_THROWS_AS(decode(bytes("\x1f\x8b")), DataError);
    CHECK_THROWS_WITH(IdxFile::images(header, "x"), Catch::Contains("truncated"));
    for (const std::string &bad : {std::string("\0\0\x08\x03\xff\xff\xff\xff\0\0\xff\xff\0\0\xff\xff", 16),
                                   std::string("\0\0\x08\x03\0\0\0\x01\0\0\0\0\0\0\0\x01", 16),
                                   std::string("\0\0\x08\x03\0\0\0\x01\0\x01\0\0\0\0\0\x01", 16),
                                   std::string("\0\0\x08\x08\0\0\0\x01\0\0\0\x01\0\0\0\x01\0", 17)})
        CHECK_THROWS_AS(IdxFile::images(bytes(bad), "x"), DataError);
    CHECK_THROWS_AS(IdxFile::labels(bytes(std::string("\0\0\x08\x01\0\0\0\x03\x01", 9)), 3, "l", "i"), DataError);
    CHECK_THROWS_AS(IdxFile::labels(bytes(std::string("\0\0\x08\x01\0\0\0\x01\x01", 9)), 2, "l", "i"), DataError);
    CHECK_THROWS_AS(IdxFile::labels(bytes(std::string("\0\0\x08\x01\xff\xff\xff\xff", 8)), -1, "l", "i"), DataError);
}
