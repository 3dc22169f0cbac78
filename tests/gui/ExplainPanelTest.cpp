// The Explain tab: top-5 classes with Grad-CAM equal to PyTorch's, other methods, the sanity check, export.
#include "CatchTorch.h"

#include "panels/ActivationsPanel.h"
#include "panels/ExplainPanel.h"
#include "GuiTestSupport.h"
#include "gui/MainWindow.h"
#include "common/NpyFile.h"
#include "widgets/TileGridView.h"
#include "panels/UnitsPanel.h"
#include "jobs/Workspace.h"

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
    // What the figure says: a row per method, named in its first column; every later column a correlation, the
    // first row's naming the re-initialised layer; the last gradient correlation is far below 1 (Adebayo et al.).
    const TileSet &sanity = explain->sanityView()->tiles();
    REQUIRE(sanity.captions.size() == 4 * 12);
    CHECK(sanity.columns == 12);
    for (size_t row = 0; row < 4; ++row) {
        CHECK(sanity.captions[row * 12].find("ρ=") == std::string::npos);
        for (size_t col = 1; col < 12; ++col)
            CHECK(sanity.captions[row * 12 + col].find("ρ=") != std::string::npos);
    }
    CHECK(sanity.captions[1].rfind("−", 0) == 0);
    saveArtifact(window, "explain-sanity.png");
}
