// Similar-image search in the window: build indexes in the background, search with the input and with a region,
// "why similar" channels linked to their top-9 patches, and the layer × descriptor table and chart.
#include "CatchTorch.h"

#include "GuiTestSupport.h"
#include "gui/MainWindow.h"
#include "panels/SearchPanel.h"
#include "widgets/TileGridView.h"
#include "panels/UnitsPanel.h"
#include "jobs/Workspace.h"

#include <QChartView>
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QSettings>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>

using namespace convscope;
using namespace guitest;

TEST_CASE("search tab: index, query, region, why similar, which layer describes best", "[gui][search]")
{
    ScannedDemo demo;
    MainWindow &window = *demo.window;
    window.workspace()->setInput(testImage(0)); // an ankle boot
    window.showTab("search");
    window.waitUntilSettled(30000);
    SearchPanel *search = window.search();
    CHECK(search->status()->text().contains("No search index yet"));

    search->layerBox()->setCurrentText("classifier.fc1");
    search->descriptorBox()->setCurrentText("fc");
    search->buildIndex();
    window.waitUntilSettled(120000);
    search->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(search->indexBox()->currentText() == "classifier.fc1-fc-128");
    INFO(search->status()->text().toStdString());
    REQUIRE(search->results()->tiles().count() == 24);
    int boots = 0;
    for (const auto &c : search->results()->tiles().captions)
        boots += c.find("Ankle boot") != std::string::npos ? 1 : 0;
    CHECK(boots >= 20);
    CHECK(search->why()->count() == 0); // fc descriptors: no channel story
    saveArtifact(window, "search-fc1.png");

    // A region of the query (the sole of the boot), then a MAC index explained by channels.
    search->search(QRect(0, 14, 28, 14));
    window.waitUntilSettled(30000);
    CHECK(search->status()->text().contains("region 0,14 28×14"));
    search->layerBox()->setCurrentText("features");
    search->descriptorBox()->setCurrentText("mac");
    search->buildIndex();
    window.waitUntilSettled(120000);
    search->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(search->indexBox()->currentText() == "features-mac-128");
    REQUIRE(search->why()->count() > 0);
    const int channel = search->why()->item(0)->data(Qt::UserRole).toInt();
    Q_EMIT search->why()->itemClicked(search->why()->item(0));
    window.units()->waitForIdle();
    window.waitUntilSettled(30000);
    CHECK(window.units()->layerBox()->currentText() == "features");
    CHECK(window.units()->patches()->tiles().count() == 9);
    CHECK(window.units()->patches()->tiles().title.empty()); // the unit detail, for the clicked channel
    (void)channel;

    window.showTab("search");
    search->evaluate();
    window.waitUntilSettled(120000);
    search->waitForIdle();
    window.waitUntilSettled(30000);
    CHECK(search->table()->rowCount() == 12);
    CHECK(search->findChild<QChartView *>()->chart()->series().size() == 1);
    saveArtifact(window, "search-eval.png");
}
