// The desktop window, offscreen: demo loads, panels follow the selected layer and input, predictions equal the
// CLI's, exports decode, errors show in the window. Screenshots are kept in the build tree as artifacts.
#include "CatchTorch.h"

#include <QComboBox>
#include <QFileInfo>
#include <QStandardItemModel>

#include "panels/ActivationsPanel.h"
#include "widgets/DatasetBrowser.h"
#include "widgets/DatasetModel.h"
#include "panels/FiltersPanel.h"
#include "gui/MainWindow.h"
#include "widgets/MessageBar.h"
#include "TestPaths.h"
#include "jobs/ScanController.h"
#include "widgets/TileGridView.h"
#include "panels/UnitsPanel.h"
#include "jobs/Workspace.h"
#include "scan/Scan.h"

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
#include <QPushButton>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QElapsedTimer>
#include <QCoreApplication>

#include <set>

using namespace convscope;

#include "GuiTestSupport.h"

using namespace guitest;

namespace {

/// The CLI's top-5 for one image (`convscope predict MODEL IMAGE --json`).
QJsonArray cliPredictions(const QString &model, const QString &image)
{
    QProcess cli;
    cli.start(QString::fromStdString(testpaths::cli()), {"predict", model, image, "--json"});
    REQUIRE(cli.waitForFinished(60000));
    return QJsonDocument::fromJson(cli.readAllStandardOutput()).array()[0].toObject()["predictions"].toArray();
}

} // namespace

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
    // Export dialogs suggest a file name: model, layer, view.
    CHECK(window.suggestedExportName("filters", "png") == "fashion_cnn-features.conv2-filters.png");
    // Colour (RGB) needs 3 input channels: not offered for conv 2's 32.
    const auto *modes = qobject_cast<QStandardItemModel *>(window.filters()->modeBox()->model());
    REQUIRE(modes);
    CHECK(!modes->item(1)->isEnabled());

    // An input: maps for each channel of the layer; predictions equal the CLI's.
    ws->setInput(testImage(3));
    window.waitUntilSettled(20000);
    REQUIRE(ws->input());
    CHECK(window.activations()->grid()->tiles().count() == 64);
    QTableWidget *table = window.activations()->predictions();
    REQUIRE(table->rowCount() == 5);
    const QJsonArray preds = cliPredictions(demo(), testImage(3));
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

TEST_CASE("main window on the ONNX demo: layers, filters, predictions, status line, a damaged file's error", "[gui][onnx]")
{
    QTemporaryDir dir;
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow window(&settings);
    const QString onnx = QString::fromStdString(testpaths::source() + "/resources/demo/fashion_cnn.onnx");
    openAndSettle(window, onnx, {}, {1280, 800});
    Workspace *ws = window.workspace();
    REQUIRE(ws->model());
    CHECK(ws->model()->format() == "ONNX");
    REQUIRE(ws->dataset()); // the shared sidecar names the Fashion-MNIST test set
    CHECK(window.messages()->text().isEmpty());
    QString badge;
    for (QLabel *l : window.statusBar()->findChildren<QLabel *>())
        badge += l->text();
    CHECK(badge.contains("ONNX · opset 13"));
    ws->selectLayer(ws->model()->layer("conv 2").index); // the sidecar's friendly names apply
    ws->setInput(testImage(3));
    window.waitUntilSettled(20000);
    CHECK(window.filters()->grid()->tiles().count() == 64);
    CHECK(window.activations()->grid()->tiles().count() == 64);
    QTableWidget *table = window.activations()->predictions();
    REQUIRE(table->rowCount() == 5);
    const QJsonArray preds = cliPredictions(demo(), testImage(3));
    for (int k = 0; k < 5; ++k)
        CHECK(table->item(k, 0)->text() == preds[k].toObject()["label"].toString()); // as the TorchScript demo
    saveArtifact(window, "mainwindow-onnx.png");

    // A truncated .onnx: the error shows in the window and the loaded model stays.
    QFile in(onnx);
    REQUIRE(in.open(QIODevice::ReadOnly));
    QFile out(dir.filePath("cut.onnx"));
    REQUIRE(out.open(QIODevice::WriteOnly));
    out.write(in.read(in.size() / 3));
    out.close();
    ws->openModel(dir.filePath("cut.onnx"));
    window.waitUntilSettled(10000);
    CHECK(window.messages()->text().contains("not a readable ONNX model"));
    CHECK(ws->model()->format() == "ONNX");
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
        CHECK(qobject_cast<QStandardItemModel *>(window.filters()->modeBox()->model())->item(1)->isEnabled());
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
        // No error; the one message is the notice that, without a sidecar, ImageNet preprocessing is assumed.
        INFO(window.messages()->text().toStdString());
        CHECK(window.messages()->text().contains("assuming ImageNet preprocessing"));
        CHECK(window.messages()->actionButton()->isVisible());
        CHECK(ws->input()->seen.size() == QSize(224, 224));
        CHECK(window.activations()->grid()->tiles().count() == 128);
        CHECK(window.activations()->predictions()->rowCount() == 5);
        // The browser and the scan agree on the unusable files (a 64-bit colour TIFF, a truncated JPEG), with why.
        DatasetModel *thumbs = window.datasets()->model();
        // An unlabelled folder's thumbnails are captioned with their file names.
        const QString first = thumbs->data(thumbs->index(0), Qt::DisplayRole).toString();
        CHECK(!first.isEmpty());
        CHECK(QFileInfo::exists(photos + "/" + first));
        for (int row = 0; row < thumbs->rowCount(); ++row)
            thumbs->data(thumbs->index(row), Qt::DecorationRole); // as a view scrolled over every tile would
        QElapsedTimer waited;
        waited.start();
        while (thumbs->unusableCount() < 2 && waited.elapsed() < 10000)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        CHECK(thumbs->unusableCount() == 2);
        CHECK(window.datasets()->infoText().contains("2 cannot be used"));
        std::set<std::string> unusable;
        for (std::int64_t i = 0; i < ws->dataset()->size(); ++i)
            if (!thumbs->unusableReason(i).isEmpty()) {
                unusable.insert(ws->dataset()->name(i));
                CHECK(thumbs->data(thumbs->index(static_cast<int>(i)), Qt::ToolTipRole).toString().contains(
                    "Cannot be used: " + thumbs->unusableReason(i)));
            }
        CHECK(unusable == std::set<std::string>{"multipage_rgb.tif", "truncated.jpg"});
        Scan::Options scanOptions;
        scanOptions.layers = {"conv1"};
        scanOptions.noFeatures = true;
        Scan scan(ws->model(), *ws->dataset(), scanOptions);
        while (scan.run(16)) {
        }
        std::set<std::string> skipped;
        for (const auto &s : scan.skipped())
            skipped.insert(s.name);
        CHECK(skipped == unusable);
        window.datasets()->view()->scrollToBottom(); // the red tiles are in the last rows
        QCoreApplication::processEvents();
        saveArtifact(*window.datasets(), "dataset-unusable.png");
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
