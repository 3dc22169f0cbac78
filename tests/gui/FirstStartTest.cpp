// The first start: the guide says what each tab answers and what to try first, lists the real shortcuts, and its
// "Scan the dataset now" starts the Units tab's scan; the Units tab says how to scan before there is a scan.
#include "GuiTestSupport.h"

#include "gui/MainWindow.h"
#include "panels/UnitsPanel.h"
#include "widgets/GuideDialog.h"
#include "widgets/TileGridView.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>

using namespace convscope;
using namespace guitest;

TEST_CASE("first start: guide with every tab and the real shortcuts, its scan button scans, then it stays away", "[gui][guide]")
{
    QTemporaryDir dir;
    qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8());
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    {
        MainWindow w(&settings);
        w.resize(1280, 800);
        w.show();
        CHECK(w.guideWanted());
        // As at a real first start: the guide opens while the demo is still loading; its scan button appears
        // once there is something to scan.
        GuideDialog *guide = w.showGuide();
        REQUIRE(guide);
        auto scanButton = [guide] {
            for (QPushButton *b : guide->findChildren<QPushButton *>())
                if (b->text().contains("Scan"))
                    return b;
            return static_cast<QPushButton *>(nullptr);
        };
        REQUIRE(scanButton());
        CHECK_FALSE(scanButton()->isVisible());
        w.open(demo());
        w.waitUntilSettled(30000);
        CHECK(scanButton()->isVisible());
        // Before a scan the Units tab says how to get one.
        CHECK(w.units()->grid()->findChild<QLabel *>()->text().contains("Scan dataset"));
        saveArtifact(*guide, "guide.png");
        for (const char *tab : {"Filters", "Activations", "Units", "Explain", "Search", "Map", "Scan dataset", "Input Spec"})
            CHECK(guide->text().contains(tab));
        auto *keys = guide->findChild<QTableWidget *>();
        REQUIRE(keys);
        QStringList shortcuts;
        for (int r = 0; r < keys->rowCount(); ++r)
            shortcuts << keys->item(r, 0)->text() + " = " + keys->item(r, 1)->text();
        INFO(shortcuts.join("; ").toStdString());
        CHECK(shortcuts.filter("Open Model").size() == 1);
        CHECK(shortcuts.filter("Zoom In").size() == 1);
        CHECK(shortcuts.filter("Input Spec").size() == 1);

        scanButton()->click();
        w.waitUntilSettled(300000);
        w.units()->waitForIdle();
        w.waitUntilSettled(30000);
        CHECK(w.units()->hasScan());
        CHECK(w.units()->grid()->tiles().count() > 0);
        CHECK_FALSE(w.guideWanted()); // shown once

        // The unit shown in the detail is framed in the layer's grid, also after re-sorting.
        w.units()->showUnit(5);
        w.units()->waitForIdle();
        w.waitUntilSettled(30000);
        const auto &shown = w.units()->shownUnits();
        auto at = [&shown](std::int64_t u) { return static_cast<int>(std::find(shown.begin(), shown.end(), u) - shown.begin()); };
        CHECK(w.units()->grid()->highlighted() == at(5));
        const QImage framed = w.units()->grid()->findChild<QLabel *>()->pixmap().toImage();
        CHECK(framed != w.units()->grid()->image()); // the frame is drawn over the grid
        w.units()->sortBox()->setCurrentIndex(1); // strongest first
        w.units()->waitForIdle();
        w.waitUntilSettled(30000);
        CHECK(w.units()->grid()->highlighted() == at(5));
        CHECK(at(5) < static_cast<int>(shown.size()));
    }
    qunsetenv("XDG_DATA_HOME");
}
