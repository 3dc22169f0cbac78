// The window's layout as a user meets it: panels never resize the window or squeeze the docks (a scan, projections,
// every tab), layer names are not cut, and a saved layout that is not sane is not restored.
#include "GuiTestSupport.h"

#include "gui/MainWindow.h"
#include "panels/UnitsPanel.h"
#include "widgets/LayerTreePanel.h"
#include "panels/ActivationsPanel.h"
#include "panels/FiltersPanel.h"
#include "widgets/TileGridView.h"
#include "jobs/Workspace.h"

#include <QAction>
#include <QComboBox>
#include <QCoreApplication>
#include <QDockWidget>
#include <QHeaderView>
#include <QScrollArea>
#include <QScrollBar>
#include <QTabWidget>
#include <QTreeView>

using namespace convscope;
using namespace guitest;

namespace {

struct Sizes {
    QSize window;
    int layers = 0, dataset = 0;
    bool operator==(const Sizes &o) const { return window == o.window && layers == o.layers && dataset == o.dataset; }
};

Sizes sizes(MainWindow &w)
{
    QCoreApplication::processEvents();
    return {w.size(), w.findChild<QDockWidget *>("layers")->width(), w.findChild<QDockWidget *>("dataset")->height()};
}

std::string describe(const Sizes &s)
{
    return std::to_string(s.window.width()) + "x" + std::to_string(s.window.height()) + " layers " +
           std::to_string(s.layers) + " dataset " + std::to_string(s.dataset);
}

} // namespace

TEST_CASE("panels never resize the window or squeeze the docks at 1280x800", "[gui][layout]")
{
    QTemporaryDir dir;
    qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8());
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    {
        MainWindow w(&settings);
        openAndSettle(w, demo(), {}, QSize(1280, 800));
        const Sizes before = sizes(w);
        INFO("before: " << describe(before));
        CHECK(before.window == QSize(1280, 800));
        CHECK(before.layers >= MainWindow::kLayersMinimum);
        CHECK(before.dataset >= MainWindow::kDatasetMinimum);
        CHECK(w.minimumSizeHint().width() <= 1280);
        CHECK(w.minimumSizeHint().height() <= 800);

        // Layer names are whole: the name column is as wide as the widest name.
        auto *tree = w.layers()->findChild<QTreeView *>();
        REQUIRE(tree);
        const QAbstractItemModel *m = tree->model();
        int widest = 0;
        for (int r = 0; r < m->rowCount(); ++r) {
            const QModelIndex parent = m->index(r, 0);
            widest = std::max(widest, tree->fontMetrics().horizontalAdvance(parent.data().toString()));
            for (int c = 0; c < m->rowCount(parent); ++c)
                widest = std::max(widest, tree->fontMetrics().horizontalAdvance(m->index(c, 0, parent).data().toString()) +
                                              tree->indentation());
        }
        CHECK(widest > 20);
        CHECK(tree->header()->sectionSize(0) >= widest);

        w.showTab("units");
        w.units()->startScan();
        w.waitUntilSettled(300000);
        w.units()->waitForIdle();
        w.waitUntilSettled(30000);
        const Sizes scanned = sizes(w);
        INFO("after the scan: " << describe(scanned));
        CHECK(scanned == before);

        w.units()->projectionBox()->setCurrentIndex(1); // + Deconvnet
        w.units()->waitForIdle();
        w.waitUntilSettled(120000);
        const Sizes projected = sizes(w);
        INFO("after + Deconvnet: " << describe(projected));
        CHECK(projected == before);

        for (const char *tab : {"filters", "activations", "units", "explain", "search", "map"}) {
            w.showTab(tab);
            w.waitUntilSettled(30000);
            INFO("tab " << tab << ": " << describe(sizes(w)));
            CHECK(sizes(w) == before);
            // Every page fits 1280×800 with the docks at their defaults: no page-wide scroll bar (a word-wrapped
            // label once made the Search page as tall as its preferred height).
            auto *page = qobject_cast<QScrollArea *>(w.findChild<QTabWidget *>()->currentWidget());
            REQUIRE(page);
            CHECK_FALSE(page->verticalScrollBar()->isVisible());
            CHECK_FALSE(page->horizontalScrollBar()->isVisible());
        }
        saveArtifact(w, "layout-1280x800-units.png");
    }
    qunsetenv("XDG_DATA_HOME");
}

TEST_CASE("a saved layout whose docks are not sane is not restored", "[gui][layout]")
{
    QTemporaryDir dir;
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    {
        MainWindow w(&settings);
        openAndSettle(w, demo(), {}, QSize(1280, 800));
        // A layer tree dragged over most of the window, a dataset strip as tall as half of it.
        w.resizeDocks({w.findChild<QDockWidget *>("layers")}, {900}, Qt::Horizontal);
        w.resizeDocks({w.findChild<QDockWidget *>("dataset")}, {420}, Qt::Vertical);
        QCoreApplication::processEvents();
        REQUIRE(w.findChild<QDockWidget *>("layers")->width() > 640);
        w.close(); // saves the session and the layout
    }
    settings.sync();
    MainWindow again(&settings);
    again.show();
    REQUIRE(again.restoreSession());
    again.waitUntilSettled(30000);
    const Sizes s = sizes(again);
    INFO(describe(s));
    CHECK(s.layers >= MainWindow::kLayersMinimum);
    CHECK(s.layers <= s.window.width() / 2);
    CHECK(s.dataset >= MainWindow::kDatasetMinimum);
    CHECK(s.dataset <= s.window.height() / 3);
    CHECK(again.layers()->findChild<QTreeView *>()->model()->rowCount() > 0);
}

TEST_CASE("View zoom acts on the grid in sight and every step changes it", "[gui][layout]")
{
    QTemporaryDir dir;
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    openAndSettle(w, demo(), {}, QSize(1280, 800));
    // conv4: 128 filters × 64 input channels of 3×3 = 8192 slices, drawn below one pixel per value at first.
    w.workspace()->selectLayer(w.workspace()->model()->layer("features.conv4").index);
    w.showTab("filters");
    w.filters()->modeBox()->setCurrentIndex(2); // slices per input channel
    w.waitUntilSettled(60000);
    TileGridView *grid = w.filters()->grid();
    REQUIRE(w.shownGrid() == grid);
    REQUIRE(grid->tiles().count() == 128 * 64);
    const double activationsScale = w.activations()->grid()->shownScale();
    const QSize first = grid->image().size();
    const double firstScale = grid->shownScale();
    INFO("first " << first.width() << "x" << first.height() << " scale " << firstScale);
    CHECK(firstScale < 1);

    auto trigger = [&w](const QString &text) {
        for (QAction *a : w.findChildren<QAction *>())
            if (a->text() == text) {
                a->trigger();
                return true;
            }
        return false;
    };
    double previous = firstScale;
    int previousWidth = first.width();
    for (int step = 0; step < 4; ++step) {
        REQUIRE(trigger(QObject::tr("Zoom &In")));
        w.waitUntilSettled(60000);
        INFO("step " << step << " scale " << grid->shownScale() << " width " << grid->image().width());
        CHECK(grid->shownScale() > previous);
        CHECK(grid->image().width() > previousWidth); // the drawn grid grew, not only a stored factor
        previous = grid->shownScale();
        previousWidth = grid->image().width();
    }
    // The hidden activations grid was not zoomed.
    CHECK(w.activations()->grid()->shownScale() == Approx(activationsScale));

    REQUIRE(trigger(QObject::tr("Zoom &Out")));
    w.waitUntilSettled(60000);
    CHECK(grid->shownScale() < previous);
    REQUIRE(trigger(QObject::tr("&Fit to Window")));
    w.waitUntilSettled(60000);
    CHECK(grid->shownScale() == Approx(firstScale));
    CHECK(grid->image().size() == first);

    // Tabs without a zoomable grid: nothing zooms behind the user's back.
    w.showTab("map");
    CHECK(w.shownGrid() == nullptr);
    REQUIRE(trigger(QObject::tr("Zoom &In")));
    w.showTab("filters");
    w.waitUntilSettled(60000);
    CHECK(grid->shownScale() == Approx(firstScale));

    // A captioned grid (activation maps with their channel numbers): every step still grows it, also where the
    // captions appear (they take room from the rows; the zoom steps must not feed back on that).
    w.workspace()->selectLayer(w.workspace()->model()->layer("features.relu3").index);
    w.showTab("activations");
    w.waitUntilSettled(60000);
    TileGridView *maps = w.activations()->grid();
    REQUIRE(w.shownGrid() == maps);
    REQUIRE(maps->tiles().count() == 64);
    double last = maps->shownScale();
    for (int step = 0; step < 8; ++step) {
        REQUIRE(trigger(QObject::tr("Zoom &In")));
        w.waitUntilSettled(60000);
        INFO("activations step " << step << " scale " << maps->shownScale());
        CHECK(maps->shownScale() > last);
        last = maps->shownScale();
    }
}
