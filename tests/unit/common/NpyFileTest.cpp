// .npy files written by numpy are read back exactly; ours round-trip.
#include "CatchTorch.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "TestPaths.h"

#include <QTemporaryDir>

using namespace convscope;

TEST_CASE("reads numpy's .npy files", "[common][npy]")
{
    const std::string d = testpaths::fixtures() + "/npy/";
    torch::Tensor f = NpyFile::read(d + "f32.npy");
    REQUIRE(f.sizes() == torch::IntArrayRef({2, 3, 4}));
    CHECK(f[1][2][3].item<float>() == 23.0f / 7.0f);
    torch::Tensor i = NpyFile::read(d + "i64.npy");
    CHECK(i[2].item<int64_t>() == (int64_t(1) << 40));
    CHECK(NpyFile::read(d + "u8.npy").sum().item<int64_t>() == 45);
}

TEST_CASE("round trip and errors", "[common][npy]")
{
    QTemporaryDir dir;
    const std::string p = dir.filePath("t.npy").toStdString();
    torch::Tensor t = torch::randn({3, 5, 7}).permute({2, 0, 1}); // not contiguous
    NpyFile::write(p, t);
    CHECK(torch::equal(NpyFile::read(p), t.contiguous()));
    NpyFile::write(p, torch::tensor(3.5f).reshape({}));
    CHECK(NpyFile::read(p).dim() == 0);
    CHECK_THROWS_AS(NpyFile::write("/nonexistent/dir/x.npy", t), IoError);
    CHECK_THROWS_AS(NpyFile::read(testpaths::fixtures() + "/models/text.pt"), DataError);
}
