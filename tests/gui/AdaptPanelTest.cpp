// The Search tab's Adapt… window end to end on the demo: train in the background with a live chart, the
// before/after table and result grids, the adapted index in the Search tab's list answering queries, and Stop
// keeping the finished epochs.
#include "CatchTorch.h"

#include "GuiTestSupport.h"
#include "gui/MainWindow.h"
#include "jobs/Workspace.h"
#include "panels/AdaptPanel.h"
#include "panels/SearchPanel.h"
#include "scan/StoredScan.h"
#include "widgets/TileGridView.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QSpinBox>
#include <QTableWidget>

using namespace convscope;
using namespace guitest;

namespace {

void waitFor(const std::function<bool()> &done, int ms)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
}

} // namespace

TEST_CASE("adapt window: train, chart, before/after, adapted index searched, stop keeps epochs", "[gui][adapt]")
{
    ScannedDemo demo;
    MainWindow &window = *demo.window;
    window.workspace()->setInput(testImage(0)); // an ankle boot
    window.showTab("search");
    window.waitUntilSettled(30000);
    SearchPanel *search = window.search();
    search->adapt();
    AdaptPanel *adapt = search->adaptWindow();
    REQUIRE(adapt);
    REQUIRE(adapt->isVisible());
    adapt->layerBox()->setCurrentText("features.conv4");
    CHECK(adapt->nameEdit()->text() == "features.conv4-adapted");
    adapt->epochsBox()->setValue(3);
    adapt->train();
    waitFor([&] { return !adapt->busy(); }, 300000);
    window.waitUntilSettled(30000);
    INFO(adapt->status()->text().toStdString());
    REQUIRE(adapt->table()->rowCount() == 3);
    const double before = adapt->table()->item(1, 2)->text().toDouble();
    const double after = adapt->table()->item(2, 2)->text().toDouble();
    CHECK(after > before);
    CHECK(adapt->status()->text().contains("test: classes 5-9 (unseen)"));
    // The chart: loss and adapted mAP per epoch, the original mAP as a line.
    const auto series = adapt->chart()->chart()->series();
    REQUIRE(series.size() == 3);
    CHECK(static_cast<QLineSeries *>(series[0])->count() == 3);
    CHECK(static_cast<QLineSeries *>(series[1])->count() == 4); // epoch 0 (= the original) and 1..3
    // Before/after results for 6 queries: query, separator, 6 before, separator, 6 after.
    waitFor([&] { return !adapt->examples()->image().isNull(); }, 30000);
    CHECK(adapt->examples()->tiles().count() == 6 * 15);
    CHECK(adapt->examples()->tiles().columns == 15);
    saveArtifact(*adapt, "adapt-window.png");

    // The adapted index is in the Search tab's list, open, and answers the input with its own model.
    waitFor([&] { return search->indexBox()->currentText() == "features.conv4-adapted" && !search->busy(); }, 30000);
    window.waitUntilSettled(30000);
    REQUIRE(search->indexBox()->currentText() == "features.conv4-adapted");
    waitFor([&] { return search->results()->tiles().count() == 24; }, 30000);
    REQUIRE(search->results()->tiles().count() == 24);
    int boots = 0;
    for (const auto &c : search->results()->tiles().captions)
        boots += c.find("Ankle boot") != std::string::npos ? 1 : 0;
    CHECK(boots >= 18);

    // Stop during a long training: the finished epochs stay saved and Train resumes them.
    adapt->nameEdit()->setText("long");
    adapt->epochsBox()->setValue(200);
    adapt->train();
    waitFor([&] { return static_cast<QLineSeries *>(adapt->chart()->chart()->series()[1])->count() >= 2; }, 120000);
    adapt->stop();
    waitFor([&] { return !adapt->busy(); }, 60000);
    CHECK(adapt->status()->text().contains("Stopped after"));
    const QString project = QString::fromStdString(
        StoredScan::defaultProjectDir(window.workspace()->datasetPath().toStdString()));
    CHECK(QDir(project + "/adapt-long").exists("history.json"));
    const QStringList states = QDir(project + "/adapt-long").entryList({"epoch-*"}, QDir::Dirs);
    REQUIRE(states.size() == 1); // the last finished epoch's state only
    CHECK(QDir(project + "/adapt-long/" + states[0]).exists("head_weight.npy"));
}
