// Patch sheets at the size they are shown: PatchExtractor::shrink averages areas and keeps the aspect; a poster of
// ResNet-50's 2048-unit layer4.2 over scikit-image's photos (427-pixel receptive fields) stays far below 2 GB of
// peak memory when its patches are cropped at the grid's size, reports progress per unit and stops when asked.
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/ImageSource.h"
#include "scan/PatchExtractor.h"
#include "scan/StoredScan.h"
#include "scan/TopPatchSheets.h"
#include "TestPaths.h"

#include <QTemporaryDir>

#include <fstream>
#include <string>

using namespace convscope;

namespace {

/// Peak resident memory of this process since the last resetPeak(), in MB (Linux /proc).
double peakMegabytes()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stod(line.substr(6)) / 1024.0;
    return -1;
}

void resetPeak()
{
    std::ofstream("/proc/self/clear_refs") << "5";
}

struct CountingProgress : Progress {
    std::int64_t last = 0, total = 0, calls = 0, stopAt = -1;
    void report(std::int64_t done, std::int64_t of, const std::string &) override
    {
        last = done;
        total = of;
        ++calls;
    }
    bool cancelled() const override { return stopAt >= 0 && last >= stopAt; }
};

} // namespace

TEST_CASE("shrinking a patch averages areas and keeps its aspect", "[scan][patches]")
{
    const torch::Tensor patch = torch::arange(3 * 8 * 4, torch::kFloat32).reshape({3, 8, 4}) / 96.0f;
    const torch::Tensor half = PatchExtractor::shrink(patch, 4);
    REQUIRE(half.sizes() == std::vector<std::int64_t>{3, 4, 2});
    // Each output pixel is the mean of its 2×2 block.
    CHECK(half[1][2][1].item<float>() ==
          Approx(patch[1].narrow(0, 4, 2).narrow(1, 2, 2).mean().item<float>()).margin(1e-6));
    CHECK(torch::equal(PatchExtractor::shrink(patch, 8), patch)); // fits already
    CHECK(torch::equal(PatchExtractor::shrink(patch, 0), patch)); // 0 = as it is
}

TEST_CASE("a poster of ResNet-50's 2048-unit layer4.2 is cropped at the shown size, in bounded memory", "[scan][patches]")
{
    QTemporaryDir dir;
    auto model = Model::load(testpaths::fixtures() + "/wide/resnet50.pt");
    const std::string data = testpaths::skimageData();
    std::shared_ptr<const ImageSource> source(ImageSource::open(data));
    StoredScan::Options so;
    so.project = dir.filePath("p").toStdString();
    so.scan.layers = {"layer4.2"};
    so.scan.noFeatures = true;
    so.scan.batchSize = 8;
    StoredScan scan(model, source, data, so);
    while (scan.run(2)) {
    }
    ProjectStore store(so.project);
    TopPatchSheets sheets(model, *source, store, scan.id());
    const int slot = sheets.layerSlot("layer4.2");
    REQUIRE(sheets.layer(slot).field.at(3, 3).height() > 224); // fields larger than the whole input

    resetPeak();
    CountingProgress progress;
    const TileSet poster = sheets.poster(slot, {}, 48, &progress);
    const double peak = peakMegabytes();
    INFO("peak resident memory while cropping: " << peak << " MB");
    REQUIRE(poster.count() == 2048);
    CHECK(poster.values.size(2) <= 3 * 48 + 2); // three patches of at most 48 px and the gaps
    CHECK(poster.values.size(3) <= 3 * 48 + 2);
    CHECK(progress.last == 2048);
    CHECK(progress.total == 2048);
    CHECK(peak > 0);
#if !defined(__SANITIZE_ADDRESS__) // AddressSanitizer's shadow memory and quarantine are not the app's memory
    CHECK(peak < 2048);
#endif

    // Stop: the work ends at the next unit with CancelledError.
    CountingProgress stopping;
    stopping.stopAt = 100;
    CHECK_THROWS_AS(sheets.poster(slot, {}, 48, &stopping), CancelledError);
    CHECK(stopping.last == 100);
}
