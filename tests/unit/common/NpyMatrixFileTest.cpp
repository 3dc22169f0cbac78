// .npy matrix files written a block at a time: NaN until written, numpy's layout.
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/ImageSource.h"
#include "common/NpyFile.h"
#include "common/NpyMatrixFile.h"
#include "scan/ProjectStore.h"
#include "scan/StoredScan.h"
#include "TestPaths.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

using namespace convscope;

TEST_CASE("npy matrix files: written a block at a time, NaN until written, numpy layout", "[common][store][npy]")
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("m.npy").toStdString();
    {
        NpyMatrixFile m(path, 5, 3);
        m.writeRows(1, torch::arange(6, torch::kFloat32).reshape({2, 3}));
        m.writeRow(4, torch::tensor({7.0f, 8.0f, 9.0f}));
        m.flush();
        CHECK_THROWS_AS(m.writeRows(4, torch::zeros({2, 3})), UsageError);
    }
    torch::Tensor t = NpyFile::read(path);
    REQUIRE(t.sizes() == std::vector<int64_t>{5, 3});
    CHECK(t[0].isnan().all().item<bool>());
    CHECK(t[3].isnan().all().item<bool>());
    CHECK(torch::equal(t.narrow(0, 1, 2), torch::arange(6, torch::kFloat32).reshape({2, 3})));
    CHECK(t[4][2].item<float>() == 9.0f);
    NpyMatrixFile reopened(path, 5, 3); // same shape: continues
    CHECK_THROWS_AS(NpyMatrixFile(path, 6, 3), DataError);
}
