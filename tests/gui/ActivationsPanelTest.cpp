// The Activations tab projects the clicked channel, at a clicked position, cropped or whole.
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
