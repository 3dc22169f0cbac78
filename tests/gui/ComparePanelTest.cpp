// The Compare window on the three bundled demo models and a broken file: opened from the main window's File menu
// with the open model, its two siblings and its dataset; the table fills in the background (a row per model, the
// broken one saying why), the chart holds a marker per model with an accuracy, and double-clicking a row opens that
// model in the main window.
#include "GuiTestSupport.h"

#include "jobs/Workspace.h"
#include "panels/ComparePanel.h"

#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTableWidget>
#include <QThread>

using namespace convscope;

namespace {

void pump(int ms)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
        QThread::msleep(2);
    }
}

} // namespace

TEST_CASE("the Compare window compares the demo models in the background", "[gui][compare]")
{
    QTemporaryDir dir;
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow window(&settings);
    guitest::openAndSettle(window, guitest::demo());
    ComparePanel *compare = window.compareWindow();
    REQUIRE(compare->models().size() == 3); // the demo and its two siblings
    CHECK(compare->models()[1].endsWith("fashion_mobile.pt"));
    compare->addModels({QString::fromStdString(testpaths::fixtures() + "/models/truncated.pt")});
    compare->addModels({guitest::demo()}); // already listed: ignored
    REQUIRE(compare->models().size() == 4);
    compare->setImageLimit(400);
    compare->setRounds(1);
    compare->resize(1400, 800);
    compare->show();
    int finished = 0;
    QObject::connect(compare, &ComparePanel::finished, [&finished] { ++finished; });
    compare->compare();
    CHECK(compare->running());
    // The table fills while the work runs: rows turn from "waiting" into numbers.
    bool sawPartial = false;
    QElapsedTimer t;
    t.start();
    while (finished == 0 && t.elapsed() < 300000) {
        pump(20);
        if (!compare->rows().empty() && compare->running())
            sawPartial = true;
    }
    REQUIRE(finished == 1);
    CHECK(sawPartial);
    CHECK(!compare->running());
    INFO(compare->status().toStdString());
    CHECK(compare->status().contains("1 could not be loaded"));

    QTableWidget *table = compare->table();
    REQUIRE(table->rowCount() == 4);
    for (int row = 0; row < 3; ++row) {
        INFO("row " << row);
        CHECK(table->item(row, 4)->text().endsWith("%")); // top-1
        CHECK(table->item(row, 4)->text().left(5).toDouble() > 85);
        CHECK(table->item(row, 6)->text().toDouble() > 0); // ms per image
        CHECK(!table->item(row, 2)->text().isEmpty());     // parameters
    }
    CHECK(table->item(0, 0)->text() == "Fashion-MNIST demo CNN");
    CHECK(table->item(3, 1)->text() == "failed");
    CHECK(table->item(3, 0)->toolTip().contains("Could not be compared"));
    const auto &rows = compare->rows();
    CHECK(rows[1].shares.depthwise > 0);
    CHECK(rows[0].shares.depthwise == 0);
    CHECK(compare->chart()->chart()->series().size() == 3);
    compare->show();
    pump(100);
    guitest::saveArtifact(*compare, "compare-window.png");

    // Double-click the mobile model: the main window opens it.
    QStringList opened;
    QObject::connect(compare, &ComparePanel::openModelRequested, [&opened](const QString &p) { opened << p; });
    Q_EMIT table->cellDoubleClicked(1, 0);
    REQUIRE(opened.size() == 1);
    CHECK(opened[0].endsWith("fashion_mobile.pt"));
    window.waitUntilSettled(30000);
    CHECK(window.workspace()->modelPath().endsWith("fashion_mobile.pt"));

    // Stop: a second comparison asked to stop ends as stopped, keeping the window usable.
    compare->setImageLimit(0);
    compare->compare();
    compare->stop();
    t.restart();
    while (finished < 2 && t.elapsed() < 60000)
        pump(20);
    CHECK(finished == 2);
    CHECK(!compare->running());
}
