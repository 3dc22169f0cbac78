// The Feature Evolution window and the Units tab's checkpoint slider on the demo's shipped checkpoints: the window
// scans every checkpoint in the background and shows the stability chart and the units × checkpoints figure; the
// slider then switches the Units tab between checkpoints, keeping the layer and unit shown.
#include "GuiTestSupport.h"

#include "jobs/Workspace.h"
#include "panels/EvolutionPanel.h"
#include "widgets/TileGridView.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLabel>
#include <QSlider>

using namespace convscope;
using namespace guitest;

TEST_CASE("evolution window and checkpoint slider on the demo's checkpoints", "[gui][evolution]")
{
    QTemporaryDir dir;
    qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8());
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow window(&settings);
    openAndSettle(window, demo());
    window.showTab("units");
    UnitsPanel *units = window.units();
    // The demo ships its checkpoints beside it: the slider is offered, at the last one (the demo model itself).
    REQUIRE(units->checkpoints().size() == 5);
    CHECK(units->checkpointSlider()->isVisible());
    CHECK(units->checkpoint() == 4);
    CHECK(units->checkpointSlider()->value() == 4);

    EvolutionPanel *evolution = window.evolutionWindow();
    evolution->show();
    bool finished = false;
    QObject::connect(evolution, &EvolutionPanel::finished, [&] { finished = true; });
    bool figure = false;
    QObject::connect(evolution, &EvolutionPanel::figureShown, [&] { figure = true; });
    evolution->run();
    QElapsedTimer clock;
    clock.start();
    while (!(finished && figure) && clock.elapsed() < 500000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    INFO(evolution->status().toStdString());
    REQUIRE(finished);
    REQUIRE(figure);
    REQUIRE(evolution->evolution());
    CHECK(evolution->status().contains("compared over 5 checkpoints"));
    CHECK_FALSE(evolution->chartImage().isNull());
    CHECK(colours(evolution->chartImage()) > 20);
    REQUIRE(evolution->layerBox()->count() >= 4);
    CHECK(evolution->figure()->tiles().count() == 8 * 5);
    CHECK(evolution->figure()->tiles().columns == 5); // one column per checkpoint, whatever the width
    clock.restart(); // the grid is drawn off the GUI thread
    while (evolution->figure()->image().isNull() && clock.elapsed() < 30000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    CHECK_FALSE(evolution->figure()->image().isNull());
    saveArtifact(*evolution, "evolution-window.png");
    evolution->chartBox()->setCurrentIndex(1); // shared with the last checkpoint
    QCoreApplication::processEvents();
    CHECK_FALSE(evolution->chartImage().isNull());

    // The Units tab shows the scan the window made (the demo model is the last checkpoint), conv 2, unit 3.
    units->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(units->statusLabel()->text().startsWith("Scan"));
    units->layerBox()->setCurrentIndex(1);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(units->grid()->tiles().count() == 64);
    const int tile = static_cast<int>(std::find(units->shownUnits().begin(), units->shownUnits().end(), 3) -
                                      units->shownUnits().begin());
    Q_EMIT units->grid()->tileClicked(tile);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(units->patches()->tiles().count() == 9);
    const torch::Tensor final = units->patches()->tiles().values.clone();

    // Slide to epoch 1: the same layer and unit, other patches.
    units->checkpointSlider()->setValue(1);
    window.waitUntilSettled(60000);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    CHECK(window.workspace()->modelPath().endsWith("fashion_cnn_epoch01.pt"));
    CHECK(units->checkpoint() == 1);
    REQUIRE(units->statusLabel()->text().startsWith("Scan"));
    CHECK(units->layerBox()->currentIndex() == 1);
    REQUIRE(units->patches()->tiles().count() == 9);
    CHECK(units->shownUnits().size() == 64);
    CHECK_FALSE(torch::equal(units->patches()->tiles().values, final));
    saveArtifact(window, "units-checkpoint-slider.png");
    qunsetenv("XDG_DATA_HOME");
}
