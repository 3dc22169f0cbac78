// Reconstructions in the window: the Explain tab (top-5 classes with Grad-CAM equal to PyTorch's, the sanity
// check), projections in the activations panel (click a channel, click a position, crop), and the units panel's
// two-column figure for a whole ResNet-18 layer computed in the background while the window stays responsive.
#include "CatchTorch.h"

#include "ActivationsPanel.h"
#include "ExplainPanel.h"
#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "NpyFile.h"
#include "TileGridView.h"
#include "UnitsPanel.h"
#include "Workspace.h"

#include <QComboBox>
#include <QCheckBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

using namespace convscope;
using namespace guitest;

TEST_CASE("explain tab: top-5 Grad-CAM equals PyTorch, other methods, sanity check, export", "[gui][reconstruct]")
{
    QTemporaryDir dir;
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow window(&settings);
    openAndSettle(window, demo());
    window.workspace()->setInput(testImage(0));
    window.showTab("explain");
    window.waitUntilSettled(30000);
    ExplainPanel *explain = window.explain();
    REQUIRE(explain->layerBox()->currentText() == "features.relu4");
    REQUIRE(explain->maps()->tiles().count() == 6); // the input and five classes
    CHECK(explain->maps()->tiles().captions[1].find("Ankle boot") == 0);
    explain->exportTo(dir.filePath("cam.npy"), 0);
    const torch::Tensor ours = NpyFile::read(dir.filePath("cam.npy").toStdString());
    REQUIRE(ours.size(0) == 5);
    const torch::Tensor ref = NpyFile::read(testpaths::fixtures() + "/recon/demo/gradcam_up.npy")[0];
    CHECK((ours[0] - ref).abs().max().item<double>() <= 1e-4 * ref.abs().max().item<double>());
    CHECK(colours(explain->maps()->image()) > 50);
    saveArtifact(window, "explain-gradcam.png");

    for (int m = 1; m < explain->methodBox()->count(); ++m) {
        explain->methodBox()->setCurrentIndex(m);
        window.waitUntilSettled(30000);
        INFO(explain->methodBox()->currentText().toStdString());
        CHECK(explain->maps()->tiles().count() == 6);
        CHECK(explain->notes()->text().isEmpty()); // the demo has only ReLUs
    }
    explain->exportTo(dir.filePath("maps.png"), 1200);
    CHECK(QImage(dir.filePath("maps.png")).width() == 1200);

    explain->runSanityCheck();
    window.waitUntilSettled(60000);
    explain->waitForIdle();
    REQUIRE(explain->sanityView()->tiles().count() == 4 * 12); // 4 methods × (original + 11 layers)
    CHECK(colours(explain->sanityView()->image()) > 50);
    saveArtifact(window, "explain-sanity.png");
}

TEST_CASE("activations panel projects the clicked channel, at a clicked position, cropped or whole", "[gui][reconstruct]")
{
    QTemporaryDir dir;
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow window(&settings);
    openAndSettle(window, demo());
    Workspace *ws = window.workspace();
    ws->selectLayer(ws->model()->layer("features.conv3").index);
    ws->setInput(testImage(0));
    window.showTab("activations");
    window.waitUntilSettled(30000);
    ActivationsPanel *panel = window.activations();
    Q_EMIT panel->grid()->tileClicked(5);
    window.waitUntilSettled(30000);
    CHECK(panel->projectionCaption()->text().startsWith("features.conv3 unit 5 at 8,12"));
    REQUIRE_FALSE(panel->projection()->pixmap().isNull());
    panel->projectAt(3, 4);
    window.waitUntilSettled(30000);
    CHECK(panel->projectionCaption()->text().contains("unit 5 at 3,4"));
    panel->findChild<QCheckBox *>()->setChecked(true); // crop to the 12×12 field
    window.waitUntilSettled(30000);
    CHECK(panel->projectionCaption()->text().contains("(deconvnet)"));
    panel->projectionMethod()->setCurrentIndex(1);
    window.waitUntilSettled(30000);
    CHECK(panel->projectionCaption()->text().contains("(guided)"));
    // A fully connected layer: its units project too (no position).
    ws->selectLayer(ws->model()->layer("classifier.fc2").index);
    window.waitUntilSettled(30000);
    Q_EMIT panel->grid()->tileClicked(7);
    window.waitUntilSettled(30000);
    CHECK(panel->projectionCaption()->text().startsWith("classifier.fc2 unit 7"));
    saveArtifact(window, "activations-projection.png");
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
