// The project store: a scan stopped after some batches and resumed from the catalogue equals an uninterrupted scan
// (top-k tables and feature matrices); finished scans are found again; bad folders give clear errors.
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

namespace {

StoredScan::Options demoOptions(const QTemporaryDir &dir, int batch)
{
    StoredScan::Options o;
    o.project = dir.path().toStdString();
    o.scan.limit = 600;
    o.scan.batchSize = batch;
    o.scan.layers = {"features.conv2", "features"};
    return o;
}

} // namespace

TEST_CASE("store: a scan stopped mid-way resumes to the same result as an uninterrupted one", "[scan][store]")
{
    auto model = Model::load(testpaths::demoModel());
    const std::string data = testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz";
    std::shared_ptr<const ImageSource> source = ImageSource::open(data);
    QTemporaryDir whole, parts;

    StoredScan a(model, source, data, demoOptions(whole, 64));
    while (a.run(4)) {
    }
    REQUIRE(a.info().complete);
    CHECK(a.info().done == 600);

    {
        StoredScan b(model, source, data, demoOptions(parts, 50));
        CHECK(b.resumedAt() == 0);
        b.run(3); // 150 images, then the "process" goes away
        CHECK(b.done() == 150);
    }
    StoredScan c(model, source, data, demoOptions(parts, 40)); // any batch size
    CHECK(c.resumedAt() == 150);
    CHECK_FALSE(c.reused());
    while (c.run(2)) {
    }
    const auto ia = a.info(), ic = c.info();
    REQUIRE(ic.complete);
    REQUIRE(ia.layers == ic.layers);
    for (int l = 0; l < static_cast<int>(ia.layers.size()); ++l)
        for (auto st : {TopKTracker::Statistic::SpatialMax, TopKTracker::Statistic::SpatialMean}) {
            const auto ta = a.store().topOfLayer(ia.id, l, st), tc = c.store().topOfLayer(ic.id, l, st);
            REQUIRE(ta.size() == tc.size());
            for (size_t ch = 0; ch < ta.size(); ++ch) {
                INFO(ia.layers[static_cast<size_t>(l)] << " channel " << ch);
                REQUIRE(ta[ch].size() == 9);
                REQUIRE(tc[ch].size() == 9);
                for (size_t j = 0; j < 9; ++j) {
                    CHECK(ta[ch][j].image == tc[ch][j].image);
                    CHECK(ta[ch][j].y == tc[ch][j].y);
                    CHECK(ta[ch][j].x == tc[ch][j].x);
                    CHECK(ta[ch][j].value == tc[ch][j].value);
                }
            }
        }
    // Feature matrices: the demo keeps the features block (avg, max) and fc1, fc2; numpy-readable, no gaps.
    REQUIRE(ia.features.size() == 4);
    for (size_t f = 0; f < ia.features.size(); ++f) {
        torch::Tensor fa = NpyFile::read(ia.features[f].file), fc = NpyFile::read(ic.features[f].file);
        CHECK(fa.sizes() == std::vector<int64_t>{600, ia.features[f].dims});
        CHECK_FALSE(fa.isnan().any().item<bool>());
        CHECK(torch::allclose(fa, fc, 1e-5, 1e-6));
    }
    // fc1 rows are what a plain forward computes.
    CHECK(ia.features[2].name == "classifier.fc1");
    // Per-image rows: label, prediction, confidence.
    const auto row = a.store().image(ia.id, 0);
    CHECK(row.label == source->label(0));
    CHECK(row.predicted >= 0);
    CHECK(row.confidence > 0.1f);
    CHECK(row.confidence <= 1.0f);

    // The same model + dataset + options again: found complete and reused, nothing runs.
    StoredScan again(model, source, data, demoOptions(whole, 128));
    CHECK(again.reused());
    CHECK(again.id() == ia.id);
    CHECK_FALSE(again.run(1));
    // Other options: another scan in the same project.
    auto other = demoOptions(whole, 64);
    other.scan.k = 4;
    StoredScan third(model, source, data, other);
    CHECK(third.id() != ia.id);
    CHECK(third.store().scans().size() == 2);
}

TEST_CASE("store: two writers of one scan are refused, bad folders and damaged catalogues give clear errors",
          "[scan][store][errors]")
{
    auto model = Model::load(testpaths::demoModel());
    const std::string data = testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz";
    std::shared_ptr<const ImageSource> source = ImageSource::open(data);
    QTemporaryDir dir;
    StoredScan first(model, source, data, demoOptions(dir, 50));
    try {
        StoredScan second(model, source, data, demoOptions(dir, 50));
        FAIL("a second writer was let in");
    } catch (const IoError &e) {
        CHECK(std::string(e.what()).find("being written by another process") != std::string::npos);
    }
    CHECK_THROWS_AS(ProjectStore("/proc/convscope-cannot-be-here"), IoError);
    QTemporaryDir broken;
    QFile junk(broken.filePath("catalog.sqlite"));
    REQUIRE(junk.open(QIODevice::WriteOnly));
    junk.write(QByteArray(4096, 'x'));
    junk.close();
    CHECK_THROWS_AS(ProjectStore(broken.path().toStdString()), DataError);
}
