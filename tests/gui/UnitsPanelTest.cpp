// The Units tab: a scan from the GUI with stop and resume, sorted mosaics, unit detail, synthesised images for a unit
// and a layer, opening an image;
// a ResNet-18 layer's patches beside deconvnet projections computed in the background.
#include "CatchTorch.h"

#include "panels/ActivationsPanel.h"
#include "widgets/DatasetBrowser.h"
#include "widgets/DatasetModel.h"
#include "panels/FiltersPanel.h"
#include "gui/MainWindow.h"
#include "widgets/MessageBar.h"
#include "common/NpyFile.h"
#include "widgets/SynthesisStrip.h"
#include "TestPaths.h"
#include "jobs/ScanController.h"
#include "widgets/TileGridView.h"
#include "panels/UnitsPanel.h"
#include "jobs/Workspace.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QComboBox>
#include <QLabel>
#include <QListView>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolButton>

#include <set>

using namespace convscope;

#include "GuiTestSupport.h"

using namespace guitest;

TEST_CASE("units panel: scan from the GUI with stop and resume, sorted mosaics, unit detail, open an image", "[gui][scan]")
{
    QTemporaryDir dir;
    // The demo dataset is system-installed: its project goes under the user's data folder — a private one here.
    qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8());
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow window(&settings);
    window.resize(1400, 900);
    window.show();
    window.open(demo());
    window.waitUntilSettled(30000);
    window.showTab("units");
    UnitsPanel *units = window.units();
    CHECK(units->statusLabel()->text().contains("Not scanned yet"));

    // Start, stop after some batches, then resume.
    qint64 resumedAt = -1, stoppedAt = -1;
    QObject::connect(units->scans(), &ScanController::started, [&](qint64 at, qint64) { resumedAt = at; });
    QObject::connect(units->scans(), &ScanController::cancelled, [&](qint64 done, qint64) { stoppedAt = done; });
    QObject::connect(units->scans(), &ScanController::progress, [&](qint64 done, qint64, double) {
        if (done >= 640 && resumedAt == 0)
            units->scans()->cancel();
    });
    units->startScan();
    window.waitUntilSettled(120000);
    REQUIRE(stoppedAt >= 640);
    CHECK(stoppedAt < 10000);
    CHECK(units->statusLabel()->text().contains("Scan stopped at"));
    units->startScan();
    window.waitUntilSettled(300000);
    CHECK(resumedAt == stoppedAt);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(units->statusLabel()->text().startsWith("Scan 1: 10,000 images"));

    // The five scanned layers; conv 2's 64 units as mosaics.
    REQUIRE(units->layerBox()->count() == 5);
    units->layerBox()->setCurrentIndex(1);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(units->grid()->tiles().count() == 64);
    CHECK(colours(units->grid()->image()) > 50);
    // One mosaic per unit, captioned "unit · strongest response", in unit order.
    for (int u = 0; u < 64; ++u)
        CHECK(units->grid()->tiles().captions[static_cast<size_t>(u)].rfind(std::to_string(u) + " · ", 0) == 0);
    // Strongest first: the shown order follows the units' largest activations.
    units->sortBox()->setCurrentIndex(1);
    window.waitUntilSettled(10000);
    const auto order = units->shownUnits();
    REQUIRE(order.size() == 64);
    const auto first = units->grid()->tiles().captions.front(), last = units->grid()->tiles().captions.back();
    CHECK(std::stod(first.substr(first.find("· ") + 3)) >= std::stod(last.substr(last.find("· ") + 3)));

    // Click a unit: its 9 patches (conv 2's field: 8×8 px) and 9 max-response images.
    Q_EMIT units->grid()->tileClicked(2);
    units->waitForIdle();
    window.waitUntilSettled(10000);
    REQUIRE(units->patches()->tiles().count() == 9);
    CHECK(units->patches()->tiles().values.size(2) == 8);
    REQUIRE(units->images()->tiles().count() == 9);
    CHECK(units->images()->tiles().values.size(2) == 28);
    saveArtifact(window, "units.png");

    // Synthesised images beside the patches: for the unit, then for every unit of the layer, in the background;
    // captions compare each with the unit's best dataset image.
    SynthesisStrip *synth = units->synthesis();
    REQUIRE(synth->unitButton()->isEnabled());
    synth->stepsBox()->setValue(128);
    bool synthesised = false;
    QObject::connect(synth, &SynthesisStrip::finished, [&] { synthesised = true; });
    auto waitForSynthesis = [&] {
        QElapsedTimer clock;
        clock.start();
        while (!synthesised && clock.elapsed() < 300000)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        REQUIRE(synthesised);
        synthesised = false;
    };
    synth->unitButton()->click();
    CHECK_FALSE(synth->unitButton()->isEnabled()); // running
    waitForSynthesis();
    REQUIRE(synth->view()->tiles().count() == 1);
    CHECK(synth->view()->tiles().values.size(2) == 28);
    CHECK(synth->view()->tiles().captions.at(0).rfind(std::to_string(order[2]) + " · ", 0) == 0);
    CHECK(synth->summary()->text().contains("1 of 1</b> excite their unit more"));
    synth->layerButton()->click();
    waitForSynthesis();
    REQUIRE(synth->view()->tiles().count() == 64);
    const auto above = QRegularExpression("(\\d+) of 64</b> excite").match(synth->summary()->text());
    REQUIRE(above.hasMatch());
    CHECK(above.captured(1).toInt() >= 56);
    CHECK(synth->unitButton()->isEnabled());
    saveArtifact(window, "units-synthesised.png");
    // Export: the images as .npy (the model's one channel, values in [0, 1]) and the captioned sheet as PNG.
    REQUIRE(synth->exportButton()->isEnabled());
    QTemporaryDir exportDir;
    synth->exportTo(exportDir.filePath("layer.npy"));
    const torch::Tensor exported = NpyFile::read(exportDir.filePath("layer.npy").toStdString());
    CHECK(exported.sizes() == torch::IntArrayRef({64, 1, 28, 28}));
    CHECK(exported.min().item<float>() >= 0.f);
    CHECK(exported.max().item<float>() <= 1.f);
    CHECK(exported.std().item<float>() > 0.05f);
    synth->exportTo(exportDir.filePath("layer.png"));
    const QImage sheet(exportDir.filePath("layer.png"));
    CHECK(sheet.width() > 28 * 8);
    CHECK(sheet.height() > 28 * 8);

    // Click a patch: that image becomes the input of the activations panel.
    Q_EMIT units->patches()->tileClicked(0);
    window.waitUntilSettled(20000);
    REQUIRE(window.workspace()->input());
    CHECK(window.workspace()->input()->name.contains("t10k-images-idx3-ubyte.gz#"));

    // Reopening the model finds the finished scan by itself.
    window.open(demo());
    window.waitUntilSettled(30000);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    CHECK(units->statusLabel()->text().startsWith("Scan 1: 10,000 images"));
    qunsetenv("XDG_DATA_HOME");
}

TEST_CASE("units panel: a ResNet-18 layer's patches with deconvnet projections, computed in the background",
          "[gui][reconstruct][scan]")
{
    QTemporaryDir dir;
    qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8());
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow window(&settings);
    openAndSettle(window, QString::fromStdString(testpaths::fixtures() + "/recon/resnet18.traced.pt"),
                  "/usr/lib/python3/dist-packages/skimage/data");
    window.showTab("units");
    UnitsPanel *units = window.units();
    units->startScan();
    window.waitUntilSettled(300000);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(units->statusLabel()->text().startsWith("Scan 1:"));
    const int slot = units->layerBox()->findText("layer2");
    REQUIRE(slot >= 0);
    units->layerBox()->setCurrentIndex(slot);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(units->grid()->tiles().count() == 128);
    const auto plainWidth = units->grid()->tiles().values.size(3);

    // While the layer is projected (ResNet-18 at 64×64 here: its sidecar), the GUI thread keeps serving its event loop.
    QElapsedTimer clock;
    clock.start();
    qint64 last = 0, worstGap = 0;
    int ticks = 0;
    QTimer timer;
    QObject::connect(&timer, &QTimer::timeout, [&] {
        worstGap = std::max(worstGap, clock.elapsed() - last);
        last = clock.elapsed();
        ++ticks;
    });
    timer.start(10);
    units->projectionBox()->setCurrentIndex(1); // + deconvnet
    while (!units->layerProjected() && clock.elapsed() < 300000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    timer.stop();
    REQUIRE(units->layerProjected());
    INFO("event loop ticks " << ticks << ", worst gap " << worstGap << " ms over " << clock.elapsed() << " ms");
    CHECK(ticks >= 10);
    CHECK(worstGap < 1500); // generous: a busy 2-core machine, but never a frozen window
    window.waitUntilSettled(30000);
    REQUIRE(units->grid()->tiles().count() == 128);
    CHECK(units->grid()->tiles().values.size(3) > plainWidth + plainWidth / 2); // projections left of patches
    // The unit detail shows 9 pairs.
    Q_EMIT units->grid()->tileClicked(0);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    CHECK(units->patches()->tiles().count() == 18);
    saveArtifact(window, "units-resnet18-deconvnet.png");
    qunsetenv("XDG_DATA_HOME");
}
