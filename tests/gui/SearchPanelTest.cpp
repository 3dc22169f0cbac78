// Similar-image search in the window: build indexes in the background, search with the input and with a region,
// "why similar" channels linked to their top-9 patches, the layer × descriptor table and chart, and the linear probes.
#include "CatchTorch.h"

#include "GuiTestSupport.h"
#include "gui/MainWindow.h"
#include "panels/SearchPanel.h"
#include "widgets/ProbeResultsView.h"
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
    for (QChartView *view : search->findChildren<QChartView *>())
        if (view != search->probeResults()->chart()) {
            CHECK(view->chart()->series().size() == 1);
            CHECK(view->minimumHeight() >= 90 + 18 * 12); // every row readable (the chart scrolls)
        }
    // The last map (the output of the `features` block) is named as what it is.
    int blockRows = 0;
    for (int r = 0; r < search->table()->rowCount(); ++r)
        if (search->table()->item(r, 0)->text().startsWith("features ")) {
            CHECK(search->table()->item(r, 0)->text().contains("block output 128"));
            ++blockRows;
        }
    CHECK(blockRows > 0);
    saveArtifact(window, "search-eval.png");

    // Which layer classifies best: a linear probe per layer with stored features (the scan's defaults: the last map
    // pooled, the two hidden fully connected layers), one line per classifier; clicking a layer selects it.
    search->classify();
    window.waitUntilSettled(300000);
    search->waitForIdle();
    window.waitUntilSettled(30000);
    INFO(search->status()->text().toStdString());
    ProbeResultsView *probes = search->probeResults();
    REQUIRE(probes->table()->rowCount() == 3);
    CHECK(probes->layers() == QStringList{"features", "classifier.fc1", "classifier.fc2"});
    for (int row = 0; row < 3; ++row)
        for (int column : {5, 6}) {
            const QString cell = probes->table()->item(row, column)->text();
            INFO(cell.toStdString());
            const double accuracy = cell.section(' ', 0, 0).toDouble();
            CHECK(accuracy > 70.0); // percent, on Fashion-MNIST
            CHECK(accuracy <= 100.0);
        }
    CHECK(probes->chart()->chart()->series().size() == 2);
    CHECK(search->status()->text().contains("Trained 6 linear probes"));
    saveArtifact(window, "search-probes.png");
    Q_EMIT probes->table()->cellClicked(1, 0);
    window.waitUntilSettled(30000);
    CHECK(window.workspace()->layer() == window.workspace()->model()->layer("classifier.fc1").index);
}
