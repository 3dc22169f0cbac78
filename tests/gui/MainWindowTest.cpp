// The desktop window, offscreen: demo loads, panels follow the selected layer and input, predictions equal the
// CLI's, exports decode, errors show in the window. Screenshots are kept in the build tree as artifacts.
#include "CatchTorch.h"

#include "ActivationsPanel.h"
#include "DatasetBrowser.h"
#include "DatasetModel.h"
#include "FiltersPanel.h"
#include "MainWindow.h"
#include "MessageBar.h"
#include "TestPaths.h"
#include "ScanController.h"
#include "TileGridView.h"
#include "UnitsPanel.h"
#include "Workspace.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QComboBox>
#include <QLabel>
#include <QListView>
#include <QProcess>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>

#include <set>

using namespace convscope;

#include "GuiTestSupport.h"

using namespace guitest;

TEST_CASE("main window on the demo: layer, filters, input, activations, predictions, export", "[gui]")
{
    QTemporaryDir dir;
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow window(&settings);
    openAndSettle(window, demo(), {}, {1280, 800});
    Workspace *ws = window.workspace();
    REQUIRE(ws->model());
    REQUIRE(ws->dataset()); // the sidecar names the Fashion-MNIST test set
    CHECK(ws->dataset()->size() == 10000);
    CHECK(window.messages()->text().isEmpty());

    // A conv layer: one filter tile per output channel, and the grid is not blank.
    ws->selectLayer(ws->model()->layer("conv 2").index);
    window.waitUntilSettled(10000);
    CHECK(window.filters()->grid()->tiles().count() == 64);
    CHECK(colours(window.filters()->grid()->image()) > 20);

    // An input: maps for each channel of the layer; predictions equal the CLI's.
    ws->setInput(testImage(3));
    window.waitUntilSettled(20000);
    REQUIRE(ws->input());
    CHECK(window.activations()->grid()->tiles().count() == 64);
    QTableWidget *table = window.activations()->predictions();
    REQUIRE(table->rowCount() == 5);
    QProcess cli;
    cli.start(QString::fromStdString(testpaths::cli()), {"predict", demo(), testImage(3), "--json"});
    REQUIRE(cli.waitForFinished(60000));
    const QJsonArray preds = QJsonDocument::fromJson(cli.readAllStandardOutput()).array()[0].toObject()["predictions"].toArray();
    for (int k = 0; k < 5; ++k) {
        CHECK(table->item(k, 0)->text() == preds[k].toObject()["label"].toString());
        CHECK(table->item(k, 1)->text() ==
              QString::number(100.0 * preds[k].toObject()["probability"].toDouble(), 'f', 2) + " %");
    }

    // Exports decode with the requested size.
    window.filters()->exportTo(dir.filePath("f.png"), 1000);
    CHECK(QImage(dir.filePath("f.png")).width() == 1000);
    window.filters()->exportTo(dir.filePath("f.svg"), 1000);
    QFile svg(dir.filePath("f.svg"));
    REQUIRE(svg.open(QIODevice::ReadOnly));
    CHECK(svg.readAll().count("<image") == 64);
    window.activations()->exportTo(dir.filePath("a.png"), 800);
    CHECK(QImage(dir.filePath("a.png")).width() == 800);
    window.activations()->exportTo(dir.filePath("a.npy"), 0);
    CHECK(QFile(dir.filePath("a.npy")).size() > 64 * 14 * 14 * 4);

    // The dataset browser fills lazily.
    CHECK(window.datasets()->model()->rowCount() > 0);
    CHECK(window.datasets()->model()->canFetchMore({}));

    // Screenshots for people to look at (build/test-artifacts).
    window.waitUntilSettled(5000);
    saveArtifact(window, "mainwindow-filters.png");
    window.findChild<QTabWidget *>()->setCurrentIndex(1);
    window.waitUntilSettled(5000);
    saveArtifact(window, "mainwindow-activations.png");

    // Errors appear in the window; the loaded model stays.
    ws->openModel(QString::fromStdString(testpaths::fixtures() + "/models/text.pt"));
    window.waitUntilSettled(10000);
    CHECK(window.messages()->text().contains("not a TorchScript model"));
    CHECK(ws->model());
    ws->setInput("/nonexistent.png");
    window.waitUntilSettled(10000);
    CHECK(window.messages()->text().contains("nonexistent.png"));
}

TEST_CASE("main window on a ResNet-18 with a folder of photos and a restored session", "[gui]")
{
    QTemporaryDir dir;
    const QString ini = dir.filePath("settings.ini");
    const QString resnet = QString::fromStdString(testpaths::fixtures() + "/resnet18.traced.pt");
    const QString photos = "/usr/lib/python3/dist-packages/skimage/data"; // Debian's python3-skimage sample photos
    {
        QSettings settings(ini, QSettings::IniFormat);
        MainWindow window(&settings);
        window.show();
        window.open(resnet, photos);
        window.waitUntilSettled(30000);
        Workspace *ws = window.workspace();
        REQUIRE(ws->model());
        CHECK(ws->layer() == ws->model()->layer("conv1").index); // first conv layer
        CHECK(window.filters()->grid()->tiles().kind == TileValues::Color);
        CHECK(window.filters()->grid()->tiles().count() == 64);
        CHECK(colours(window.filters()->grid()->image()) > 50);
        REQUIRE(ws->dataset());
        std::int64_t chelsea = -1; // the cat
        for (std::int64_t i = 0; i < ws->dataset()->size(); ++i)
            if (ws->dataset()->name(i) == "chelsea.png")
                chelsea = i;
        REQUIRE(chelsea >= 0);
        ws->selectLayer(ws->model()->layer("layer2.0.relu#2").index);
        ws->setInputFromDataset(chelsea);
        window.waitUntilSettled(30000);
        CHECK(window.messages()->text().isEmpty());
        CHECK(ws->input()->seen.size() == QSize(224, 224));
        CHECK(window.activations()->grid()->tiles().count() == 128);
        CHECK(window.activations()->predictions()->rowCount() == 5);
        window.findChild<QTabWidget *>()->setCurrentIndex(1);
        window.waitUntilSettled(5000);
        saveArtifact(window, "mainwindow-resnet18-photos.png");
        window.close(); // saves the session
    }
    QSettings settings(ini, QSettings::IniFormat);
    MainWindow again(&settings);
    REQUIRE(again.restoreSession());
    again.waitUntilSettled(30000);
    REQUIRE(again.workspace()->model());
    CHECK(QString::fromStdString(again.workspace()->model()->path()) == QFileInfo(resnet).absoluteFilePath());
    CHECK(again.workspace()->datasetPath() == photos);
    CHECK(again.workspace()->model()->layers()[again.workspace()->layer()].path == "layer2.0.relu#2");
}

TEST_CASE("units panel: scan from the GUI with stop and resume, sorted mosaics, unit detail, open an image", "[gui][scan]")
{
    QTemporaryDir dir;
    // The demo dataset is system-installed: its project goes under the user's data folder — a private one here.
    qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8());
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow window(&settings);
    window.resize(1400, 900);
    window.show();
    window.open(demo());
    window.waitUntilSettled(30000);
    window.showTab("units");
    UnitsPanel *units = window.units();
    CHECK(units->statusLabel()->text().contains("Not scanned yet"));

    // Start, stop after some batches, then resume.
    qint64 resumedAt = -1, stoppedAt = -1;
    QObject::connect(units->scans(), &ScanController::started, [&](qint64 at, qint64) { resumedAt = at; });
    QObject::connect(units->scans(), &ScanController::cancelled, [&](qint64 done, qint64) { stoppedAt = done; });
    QObject::connect(units->scans(), &ScanController::progress, [&](qint64 done, qint64, double) {
        if (done >= 640 && resumedAt == 0)
            units->scans()->cancel();
    });
    units->startScan();
    window.waitUntilSettled(120000);
    REQUIRE(stoppedAt >= 640);
    CHECK(stoppedAt < 10000);
    CHECK(units->statusLabel()->text().contains("Scan stopped at"));
    units->startScan();
    window.waitUntilSettled(300000);
    CHECK(resumedAt == stoppedAt);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(units->statusLabel()->text().startsWith("Scan 1: 10,000 images"));

    // The five scanned layers; conv 2's 64 units as mosaics.
    REQUIRE(units->layerBox()->count() == 5);
    units->layerBox()->setCurrentIndex(1);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    REQUIRE(units->grid()->tiles().count() == 64);
    CHECK(colours(units->grid()->image()) > 50);
    // Strongest first: the shown order follows the units' largest activations.
    units->sortBox()->setCurrentIndex(1);
    window.waitUntilSettled(10000);
    const auto order = units->shownUnits();
    REQUIRE(order.size() == 64);
    const auto first = units->grid()->tiles().captions.front(), last = units->grid()->tiles().captions.back();
    CHECK(std::stod(first.substr(first.find("· ") + 3)) >= std::stod(last.substr(last.find("· ") + 3)));

    // Click a unit: its 9 patches (conv 2's field: 8×8 px) and 9 max-response images.
    Q_EMIT units->grid()->tileClicked(2);
    units->waitForIdle();
    window.waitUntilSettled(10000);
    REQUIRE(units->patches()->tiles().count() == 9);
    CHECK(units->patches()->tiles().values.size(2) == 8);
    REQUIRE(units->images()->tiles().count() == 9);
    CHECK(units->images()->tiles().values.size(2) == 28);
    saveArtifact(window, "units.png");

    // Click a patch: that image becomes the input of the activations panel.
    Q_EMIT units->patches()->tileClicked(0);
    window.waitUntilSettled(20000);
    REQUIRE(window.workspace()->input());
    CHECK(window.workspace()->input()->name.contains("t10k-images-idx3-ubyte.gz#"));

    // Reopening the model finds the finished scan by itself.
    window.open(demo());
    window.waitUntilSettled(30000);
    units->waitForIdle();
    window.waitUntilSettled(30000);
    CHECK(units->statusLabel()->text().startsWith("Scan 1: 10,000 images"));
    qunsetenv("XDG_DATA_HOME");
}
