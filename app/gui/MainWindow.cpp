#include "gui/MainWindow.h"

#include "panels/ActivationsPanel.h"
#include "panels/ComparePanel.h"
#include "panels/EvolutionPanel.h"
#include "widgets/DatasetBrowser.h"
#include "panels/ExplainPanel.h"
#include "panels/SearchPanel.h"
#include "panels/MapPanel.h"
#include "common/Error.h"
#include "panels/FiltersPanel.h"
#include "widgets/LayerTreePanel.h"
#include "widgets/GuideDialog.h"
#include "widgets/InputSpecDialog.h"
#include "widgets/MessageBar.h"
#include "widgets/PageArea.h"
#include "widgets/TileGridView.h"
#include "panels/UnitsPanel.h"
#include "jobs/JobLane.h"
#include "jobs/ScanController.h"
#include "jobs/Workspace.h"

#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QRegularExpression>
#include <QScrollArea>
#include <QScreen>
#include <QElapsedTimer>
#include <QDir>
#include <QFileInfo>
#include <QThreadPool>
#include <QImageReader>
#include <QInputDialog>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

// The icon lives in a static library: its resource initialiser must be called explicitly.
static void initResources()
{
    Q_INIT_RESOURCE(resources);
}

namespace convscope {

MainWindow::MainWindow(QSettings *settings, QWidget *parent)
    : QMainWindow(parent), settings_(settings), workspace_(new Workspace(this)), messages_(new MessageBar),
      layers_(new LayerTreePanel(workspace_)), filters_(new FiltersPanel(workspace_)),
      activations_(new ActivationsPanel(workspace_)), datasets_(new DatasetBrowser(workspace_)),
      units_(new UnitsPanel(workspace_)), explain_(new ExplainPanel(workspace_)), search_(new SearchPanel(workspace_)),
      map_(new MapPanel(workspace_)), tabs_(new QTabWidget)
{
    initResources();
    setWindowTitle("Convscope");
    setWindowIcon(QIcon(":/convscope.svg"));
    setAcceptDrops(true);
    QTabWidget *tabs = tabs_;
    // Each page scrolls when the window is smaller than the page needs: a page's minimum size never grows the
    // window or squeezes the docks (a scan's status line or a wider combo box used to do both).
    auto page = [](QWidget *panel) { return new PageArea(panel); };
    tabs->addTab(page(filters_), tr("Filters"));
    tabs->addTab(page(activations_), tr("Activations"));
    tabs->addTab(page(units_), tr("Units"));
    tabs->setTabToolTip(2, tr("Top-9 patches of every unit over the dataset (needs a scan)"));
    tabs->addTab(page(explain_), tr("Explain"));
    tabs->setTabToolTip(3, tr("Saliency, Grad-CAM and the sanity check for the current input's top classes"));
    tabs->addTab(page(search_), tr("Search"));
    tabs->setTabToolTip(4, tr("Similar images by neural descriptors, and which layer describes best"));
    tabs->addTab(page(map_), tr("Map"));
    tabs->setTabToolTip(5, tr("t-SNE map of the dataset by a layer's features, drawn as thumbnails"));
    connect(map_, &MapPanel::openImage, this, [this](const QString &reference) {
        workspace_->setInput(reference);
        showTab("activations");
    });
    connect(units_, &UnitsPanel::unitShown, map_, &MapPanel::highlightImages);
    connect(units_, &UnitsPanel::scanShown, datasets_, &DatasetBrowser::showSkipped);
    connect(map_, &MapPanel::exported, this, [this](const QString &path, const QString &error) {
        if (error.isEmpty())
            statusBar()->showMessage(tr("Wrote %1").arg(path), 5000);
        else
            messages_->showError(error);
    });
    connect(search_, &SearchPanel::openImage, this, [this](const QString &reference) {
        workspace_->setInput(reference);
    });
    connect(search_, &SearchPanel::showUnit, this, [this](const QString &layer, int channel) {
        if (units_->showLayerUnit(layer.toStdString(), channel))
            showTab("units");
        else
            messages_->showError(tr("Layer %1 was not scanned: its units have no top-9 patches yet.").arg(layer));
    });
    connect(units_, &UnitsPanel::openImage, this, [this](const QString &reference) {
        workspace_->setInput(reference);
        showTab("activations");
    });
    auto *central = new QWidget;
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(messages_);
    layout->addWidget(tabs);
    setCentralWidget(central);

    auto dock = [this](const QString &title, const char *name, QWidget *w, Qt::DockWidgetArea area) {
        auto *d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(w);
        addDockWidget(area, d);
        return d;
    };
    dock(tr("Layers"), "layers", layers_, Qt::LeftDockWidgetArea);
    dock(tr("Dataset"), "dataset", datasets_, Qt::BottomDockWidgetArea);

    buildMenus();

    auto *busy = new QProgressBar;
    busy->setRange(0, 0);
    busy->setMaximumWidth(120);
    busy->hide();
    auto *cancel = new QToolButton;
    cancel->setText(tr("Cancel"));
    cancel->setToolTip(tr("Stop waiting for the running work; its result is dropped"));
    cancel->hide();
    modelFormat_ = new QLabel;
    statusBar()->addPermanentWidget(modelFormat_);
    // A running scan shows in the status bar on every tab, not only on the Units tab.
    auto *scanning = new QLabel;
    scanning->setObjectName("scanStatus");
    scanning->setToolTip(tr("The dataset scan runs in the background; the Units tab shows it and can stop it"));
    scanning->hide();
    statusBar()->addPermanentWidget(scanning);
    ScanController *scans = units_->scans();
    connect(scans, &ScanController::started, scanning, [scanning](qint64 at, qint64 total) {
        scanning->setText(tr("Scanning: %1 of %2 images").arg(QLocale().toString(at), QLocale().toString(total)));
        scanning->show();
    });
    connect(scans, &ScanController::progress, scanning, [scanning](qint64 done, qint64 total, double rate) {
        const qint64 left = rate > 0 ? static_cast<qint64>(static_cast<double>(total - done) / rate) : -1;
        scanning->setText(tr("Scanning: %1 of %2 images%3")
                              .arg(QLocale().toString(done), QLocale().toString(total),
                                   left >= 0 ? tr(" · %1 s left").arg(left) : QString()));
    });
    connect(scans, &ScanController::finished, scanning, &QLabel::hide);
    connect(scans, &ScanController::cancelled, scanning, &QLabel::hide);
    connect(scans, &ScanController::failed, scanning, &QLabel::hide);
    statusBar()->addPermanentWidget(busy);
    statusBar()->addPermanentWidget(cancel);
    connect(cancel, &QToolButton::clicked, workspace_, &Workspace::cancel);
    // Short work shows nothing; work running past 0.3 s shows progress and a Cancel button.
    auto *reveal = new QTimer(this);
    reveal->setSingleShot(true);
    reveal->setInterval(300);
    connect(reveal, &QTimer::timeout, this, [this, busy, cancel] {
        busy->setVisible(workspace_->busy());
        cancel->setVisible(workspace_->busy());
    });
    connect(workspace_, &Workspace::busyChanged, this, [this, busy, cancel, reveal](bool on, const QString &what) {
        if (on) {
            reveal->start();
        } else {
            reveal->stop();
            busy->hide();
            cancel->hide();
        }
        statusBar()->showMessage(on ? what + "…" : QString());
    });
    connect(workspace_, &Workspace::failed, messages_, &MessageBar::showError);
    connect(workspace_, &Workspace::modelChanged, this, [this] {
        setWindowTitle(QFileInfo(workspace_->modelPath()).fileName() + " — Convscope");
        // Assumptions about the input (no sidecar) are said, with the way to check and save them.
        QStringList notes;
        for (const std::string &note : workspace_->model()->sidecar().notes)
            notes << QString::fromStdString(note);
        if (!notes.isEmpty())
            messages_->showNotice(tr("%1: %2.").arg(QFileInfo(workspace_->modelPath()).fileName(), notes.join("; ")),
                                  tr("Check Input Spec…"), [this] { showInputSpec(); });
        else if (messages_->actionButton()->isVisible())
            messages_->hide(); // the previous model's notice
        addRecent("recentModels", workspace_->modelPath());
        showModelFormat();
        if (!pendingLayer_.isEmpty()) { // restore the session's layer
            try {
                workspace_->selectLayer(workspace_->model()->layer(pendingLayer_.toStdString()).index);
            } catch (const Error &) {
            }
            pendingLayer_.clear();
        }
        if (!workspace_->input() && workspace_->dataset() && workspace_->dataset()->size() > 0)
            workspace_->setInputFromDataset(0);
        // A model saved with its training checkpoints beside it (checkpoints/<stem>_*.pt, as the demo): the Units
        // tab's slider offers them.
        if (units_->checkpoint() < 0)
            units_->setCheckpoints(CheckpointSeries::besideModel(workspace_->modelPath().toStdString()));
    });
    connect(units_, &UnitsPanel::evolutionRequested, this, [this] {
        EvolutionPanel *e = evolutionWindow();
        e->show();
        e->raise();
        e->activateWindow();
    });
    connect(workspace_, &Workspace::datasetChanged, this, [this] {
        addRecent("recentDatasets", workspace_->datasetPath());
        if (evolution_ && !evolution_->running()) // the next evolution scans the dataset now open
            evolution_->setDataset(workspace_->datasetPath());
        if (!workspace_->input() && workspace_->model() && workspace_->dataset()->size() > 0)
            workspace_->setInputFromDataset(0);
    });
    connect(activations_, &ActivationsPanel::openImageRequested, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Open image"), {},
                                                       tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.pgm *.ppm)"));
        if (!f.isEmpty())
            workspace_->setInput(f);
    });
    // The docks keep a usable size whatever the pages ask for: the layer tree shows names, type and output.
    layers_->setMinimumWidth(kLayersMinimum);
    datasets_->setMinimumHeight(kDatasetMinimum);
    resize(defaultWindowSize());
    restoreGeometry(settings_->value("geometry").toByteArray());
    restoredLayout_ = restoreState(settings_->value("windowState").toByteArray());
}

QSize MainWindow::defaultWindowSize() const
{
    const QScreen *s = screen();
    const QSize room = s ? s->availableGeometry().size() : QSize(1280, 800);
    return QSize(1280, 800).expandedTo(room * 0.85).boundedTo(room);
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    if (docksChecked_)
        return;
    docksChecked_ = true;
    // A saved dock layout is kept only if it is sane: a layer tree between its minimum and half the window, a
    // dataset strip between its minimum and a third of the window. Anything else (a layout squeezed by an older
    // version) gets the default layout. (restoreGeometry already fits a saved window to the screen it opens on.)
    auto *layers = findChild<QDockWidget *>("layers");
    auto *data = findChild<QDockWidget *>("dataset");
    if (layers->isVisible() && (!restoredLayout_ || layers->width() < kLayersMinimum || layers->width() > width() / 2))
        resizeDocks({layers}, {std::min(kLayersDefault, width() / 3)}, Qt::Horizontal);
    if (data->isVisible() && (!restoredLayout_ || data->height() < kDatasetMinimum || data->height() > height() / 3))
        resizeDocks({data}, {kDatasetDefault}, Qt::Vertical);
}

MainWindow::~MainWindow()
{
    workspace_->cancel(); // its lanes and the panels' lanes wait for their own jobs as they are destroyed
}

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open &Model…"), QKeySequence::Open, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Open model (TorchScript or ONNX)"), {},
                                                       tr("Models (*.pt *.pth *.ptl *.zip *.onnx);;TorchScript models (*.pt *.pth *.ptl *.zip);;ONNX models (*.onnx);;All files (*)"));
        if (!f.isEmpty())
            workspace_->openModel(f);
    });
    file->addAction(tr("Open &Dataset Folder…"), this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Open image folder"));
        if (!d.isEmpty())
            workspace_->openDataset(d);
    });
    file->addAction(tr("Open Dataset &File (idx)…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Open idx images file"), {},
                                                       tr("IDX image files (*idx3-ubyte *idx3-ubyte.gz)"));
        if (!f.isEmpty())
            workspace_->openDataset(f);
    });
    QMenu *scan = menuBar()->addMenu(tr("&Scan"));
    scan->addAction(tr("&Scan Dataset"), QKeySequence(Qt::CTRL | Qt::Key_R), this, [this] {
        showTab("units");
        units_->startScan();
    });
    scan->addAction(tr("S&top Scan"), this, [this] { units_->scans()->cancel(); });
    QMenu *recent = file->addMenu(tr("Open &Recent"));
    connect(recent, &QMenu::aboutToShow, this, [this, recent] {
        recent->clear();
        for (const QString &m : settings_->value("recentModels").toStringList())
            recent->addAction(tr("Model: %1").arg(m), this, [this, m] { workspace_->openModel(m); });
        recent->addSeparator();
        for (const QString &d : settings_->value("recentDatasets").toStringList())
            recent->addAction(tr("Dataset: %1").arg(d), this, [this, d] { workspace_->openDataset(d); });
    });
    file->addAction(tr("Open &Checkpoints…"), this, [this] {
        const QStringList files = QFileDialog::getOpenFileNames(
            this, tr("Checkpoints of one training run"), {},
            tr("Models (*.pt *.ts *.torchscript *.onnx);;All files (*)"));
        if (!files.isEmpty())
            openCheckpoints(files);
    });
    file->addSeparator();
    file->addAction(tr("&Input Spec…"), QKeySequence(Qt::CTRL | Qt::Key_I), this, &MainWindow::showInputSpec);
    file->addAction(tr("&Compare Models…"), this, [this] {
        ComparePanel *c = compareWindow();
        c->show();
        c->raise();
        c->activateWindow();
    });
    file->addAction(tr("Feature &Evolution…"), this, [this] {
        EvolutionPanel *e = evolutionWindow();
        e->show();
        e->raise();
        e->activateWindow();
    });
    file->addSeparator();
    file->addAction(tr("Export &Filters…"), this, [this] { exportView(false); });
    file->addAction(tr("Export &Activations…"), this, [this] { exportView(true); });
    file->addAction(tr("Export &Explanations…"), this, [this] {
        exportTo(tr("Export explanations"), suggestedExportName("explanation", "png"), tr("PNG image (*.png);;SVG drawing (*.svg);;NumPy array (*.npy)"),
                 [this](const QString &path) { explain_->exportTo(path, 2048); });
    });
    file->addAction(tr("Export &Map…"), this, [this] {
        exportTo(tr("Export map"), suggestedExportName("map", "csv"), tr("Coordinates (*.csv);;NumPy array (*.npy);;Poster (*.png);;TensorBoard projector bundle (*.pbtxt)"),
                 [this](const QString &path) { map_->exportTo(path, 6000); }, false);
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(tr("&Paste Image as Input"), QKeySequence::Paste, this, [this] {
        const QImage img = QApplication::clipboard()->image();
        if (img.isNull())
            messages_->showError(tr("The clipboard holds no image."));
        else
            workspace_->setInputImage(img, tr("pasted image"));
    });
    edit->addAction(tr("Copy Filters Image"), this, [this] { QApplication::clipboard()->setImage(filters_->grid()->image()); });
    edit->addAction(tr("Copy Activations Image"), this,
                    [this] { QApplication::clipboard()->setImage(activations_->grid()->image()); });

    QMenu *view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget *d : findChildren<QDockWidget *>())
        view->addAction(d->toggleViewAction());
    view->addSeparator();
    // Zoom acts on the grid in sight (filters, activations or the units of a layer), nowhere else.
    auto zoom = [this](void (TileGridView::*step)()) {
        if (TileGridView *grid = shownGrid())
            (grid->*step)();
        else
            statusBar()->showMessage(tr("Zoom works on the Filters, Activations and Units grids (or Ctrl+wheel over a grid)"), 4000);
    };
    view->addAction(tr("Zoom &In"), QKeySequence::ZoomIn, this, [zoom] { zoom(&TileGridView::zoomIn); });
    view->addAction(tr("Zoom &Out"), QKeySequence::ZoomOut, this, [zoom] { zoom(&TileGridView::zoomOut); });
    view->addAction(tr("&Fit to Window"), QKeySequence(Qt::CTRL | Qt::Key_0), this, [zoom] { zoom(&TileGridView::resetZoom); });

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Getting Started"), QKeySequence::HelpContents, this, [this] { showGuide(); });
    help->addAction(tr("&Keyboard Shortcuts"), this, [this] { showGuide()->showShortcuts(); });
    help->addSeparator();
    help->addAction(tr("&About Convscope"), this, [this] {
        QMessageBox::about(this, tr("About Convscope"),
                           tr("<h3>Convscope %1</h3><p>What has your CNN learned? Filters, activations, top patches, "
                              "reconstructions, explanations, maps and search for your own model and images — "
                              "offline, on a laptop.</p><p>Qt %2 · LibTorch · OpenCV</p>"
                              "<p>The same work in batch: <code>convscope --help</code>.</p>")
                               .arg(QCoreApplication::applicationVersion(), QString::fromLatin1(qVersion())));
    });
}

GuideDialog *MainWindow::showGuide()
{
    QList<QAction *> actions;
    for (QAction *menu : menuBar()->actions())
        if (menu->menu())
            actions += menu->menu()->actions();
    auto *guide = new GuideDialog(actions, settings_->value("guide/showAtStart", false).toBool(), this);
    guide->setAttribute(Qt::WA_DeleteOnClose);
    // "Scan the dataset now" while there is something to scan (at the first start the demo is still loading).
    auto offer = [this, guide] {
        guide->setScanAvailable(workspace_->model() && workspace_->dataset() && !units_->scans()->running() &&
                                !units_->hasScan());
    };
    offer();
    connect(workspace_, &Workspace::modelChanged, guide, offer);
    connect(workspace_, &Workspace::datasetChanged, guide, offer);
    connect(units_, &UnitsPanel::scanShown, guide, offer);
    connect(guide, &GuideDialog::scanRequested, this, [this, guide] {
        showTab("units");
        units_->startScan();
        guide->setScanAvailable(false);
    });
    connect(guide, &QDialog::finished, this, [this, guide] {
        settings_->setValue("guide/showAtStart", guide->showAtStart());
    });
    settings_->setValue("guide/shown", true);
    guide->show();
    return guide;
}

TileGridView *MainWindow::shownGrid() const
{
    QWidget *page = tabs_->currentWidget();
    for (TileGridView *grid : {filters_->grid(), activations_->grid(), units_->grid()})
        if (page && page->isAncestorOf(grid))
            return grid;
    return nullptr;
}

InputSpecDialog *MainWindow::showInputSpec()
{
    if (!workspace_->model()) {
        messages_->showError(tr("Open a model first: the input spec belongs to a model."));
        return nullptr;
    }
    auto *dialog = new InputSpecDialog(workspace_->model(), workspace_->inputReference(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &InputSpecDialog::saved, this, [this, model = workspace_->modelPath()](const QString &path) {
        if (workspace_->modelPath() != model) { // another model was opened meanwhile
            statusBar()->showMessage(tr("Wrote %1").arg(path), 6000);
            return;
        }
        statusBar()->showMessage(tr("Wrote %1; the model is opened again with it").arg(path), 6000);
        workspace_->openModel(model); // predictions, scans and maps use the new input spec
    });
    dialog->show();
    return dialog;
}

ComparePanel *MainWindow::compareWindow()
{
    if (!compare_) {
        compare_ = new ComparePanel(this);
        compare_->setWindowFlag(Qt::Window);
        connect(compare_, &ComparePanel::openModelRequested, this, [this](const QString &path) {
            workspace_->openModel(path);
            raise();
            activateWindow();
        });
    }
    // Starts from what the main window shows: its model in the list, its dataset to compare on.
    const QString model = workspace_->modelPath();
    if (!model.isEmpty()) {
        QStringList models{model};
        // The bundled demo comes with two siblings trained by the same recipe: compared out of the box.
        const QFileInfo info(model);
        if (info.fileName() == "fashion_cnn.pt")
            for (const char *sibling : {"fashion_mobile.pt", "fashion_resnet.pt"})
                if (QFileInfo::exists(info.dir().filePath(sibling)))
                    models << info.dir().filePath(sibling);
        compare_->addModels(models);
    }
    if (!workspace_->datasetPath().isEmpty() && !compare_->running())
        compare_->setDataset(workspace_->datasetPath());
    return compare_;
}

EvolutionPanel *MainWindow::evolutionWindow()
{
    if (!evolution_) {
        evolution_ = new EvolutionPanel(this);
        evolution_->setWindowFlag(Qt::Window);
        // The scans it made are the Units tab's too: the open checkpoint's is shown there.
        connect(evolution_, &EvolutionPanel::finished, units_, &UnitsPanel::lookForScanIfIdle);
    }
    if (!evolution_->running()) {
        evolution_->setCheckpoints(units_->checkpoints());
        evolution_->setDataset(workspace_->datasetPath());
    }
    return evolution_;
}

void MainWindow::openCheckpoints(const QStringList &files)
{
    std::vector<std::string> paths;
    for (const QString &f : files)
        paths.push_back(f.toStdString());
    try {
        // One file: it and the files beside it named like it but for the numbers; several: those, sorted by name
        // (numbers as numbers).
        const CheckpointSeries picked = files.size() == 1 ? CheckpointSeries::siblingsOf(paths.front())
                                                          : CheckpointSeries::fromFiles(CheckpointSeries::byName(paths));
        units_->setCheckpoints(picked);
        if (evolution_ && !evolution_->running())
            evolution_->setCheckpoints(picked);
        workspace_->openModel(QString::fromStdString(picked.checkpoints().back().path));
        showTab("units");
    } catch (const Error &e) {
        messages_->showError(QString::fromUtf8(e.what()));
    }
}

void MainWindow::open(const QString &model, const QString &dataset)
{
    if (!dataset.isEmpty())
        workspace_->openDataset(dataset);
    workspace_->openModel(model); // without a dataset, the workspace opens the one the sidecar names
}

void MainWindow::waitUntilSettled(int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    int quiet = 0; // consecutive idle rounds: work may chain (model -> input -> grids)
    while (clock.elapsed() < timeoutMs && quiet < 10) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        JobLane::pool()->waitForDone(20);
        quiet = workspace_->busy() || units_->busy() || explain_->busy() || activations_->busy() || search_->busy() || map_->busy()
                    ? 0
                    : quiet + 1;
    }
    QCoreApplication::processEvents();
}

void MainWindow::showTab(const QString &name)
{
    const std::map<QString, QWidget *> tabs = {{"filters", filters_}, {"activations", activations_}, {"units", units_},
                                               {"explain", explain_}, {"search", search_},
                                               {"map", map_}};
    if (auto it = tabs.find(name.toLower()); it != tabs.end())
        for (int i = 0; i < tabs_->count(); ++i)
            if (tabs_->widget(i)->isAncestorOf(it->second))
                tabs_->setCurrentIndex(i);
}

bool MainWindow::restoreSession()
{
    const QString model = settings_->value("session/model").toString();
    if (model.isEmpty() || !QFileInfo::exists(model))
        return false;
    pendingLayer_ = settings_->value("session/layer").toString();
    const QString dataset = settings_->value("session/dataset").toString();
    open(model, QFileInfo::exists(dataset) ? dataset : QString());
    return true;
}

void MainWindow::saveSession()
{
    settings_->setValue("geometry", saveGeometry());
    settings_->setValue("windowState", saveState());
    settings_->setValue("session/model", workspace_->modelPath());
    settings_->setValue("session/dataset", workspace_->datasetPath());
    if (workspace_->model() && workspace_->layer() >= 0)
        settings_->setValue("session/layer", QString::fromStdString(workspace_->model()->layers()[workspace_->layer()].path));
    settings_->sync();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveSession();
    event->accept();
}

void MainWindow::addRecent(const QString &key, const QString &path)
{
    if (path.isEmpty())
        return;
    QStringList list = settings_->value(key).toStringList();
    list.removeAll(path);
    list.prepend(path);
    settings_->setValue(key, list.mid(0, 10));
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls() || event->mimeData()->hasImage())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    if (event->mimeData()->hasUrls()) {
        for (const QUrl &url : event->mimeData()->urls())
            if (url.isLocalFile())
                openDropped(url.toLocalFile());
    } else if (event->mimeData()->hasImage()) {
        workspace_->setInputImage(qvariant_cast<QImage>(event->mimeData()->imageData()), tr("dropped image"));
    }
    event->acceptProposedAction();
}

void MainWindow::showModelFormat()
{
    const auto &model = workspace_->model();
    if (!model || model->format() != "ONNX") {
        modelFormat_->clear();
        modelFormat_->setToolTip({});
        return;
    }
    const auto &d = model->formatDetails();
    auto detail = [&](const char *key) { return QString::fromStdString(d.count(key) ? d.at(key) : "?"); };
    modelFormat_->setText(tr("ONNX · opset %1").arg(detail("opset")));
    modelFormat_->setToolTip(tr("ONNX model from %1, %2 nodes.\nExporters fold batch norm into the convolution before "
                                "it: a Conv layer's weights and output are conv+BN.")
                                 .arg(detail("producer"), detail("nodes")));
    statusBar()->showMessage(tr("ONNX model: batch norm is folded into the convolutions (a Conv layer shows conv+BN)"),
                             15000);
}

void MainWindow::openDropped(const QString &path)
{
    const QFileInfo info(path);
    const QString suffix = info.suffix().toLower();
    if (info.isDir() || path.contains("idx3-ubyte"))
        workspace_->openDataset(path);
    else if (suffix == "pt" || suffix == "pth" || suffix == "ptl" || suffix == "zip" || suffix == "onnx")
        workspace_->openModel(path);
    else
        workspace_->setInput(path);
}

QString MainWindow::suggestedExportName(const QString &view, const QString &suffix) const
{
    QStringList parts;
    if (auto model = workspace_->model()) {
        parts << QFileInfo(QString::fromStdString(model->path())).completeBaseName();
        if (workspace_->layer() >= 0)
            parts << QString::fromStdString(model->layers()[static_cast<size_t>(workspace_->layer())].path);
    }
    parts << view;
    QString name = parts.join('-');
    name.replace(QRegularExpression("[^A-Za-z0-9._#-]"), "_");
    return name + "." + suffix;
}

void MainWindow::exportTo(const QString &title, const QString &suggested, const QString &filter,
                          const std::function<void(const QString &)> &write, bool writtenOnReturn)
{
    const QString path = QFileDialog::getSaveFileName(this, title, suggested, filter);
    if (path.isEmpty())
        return;
    try {
        write(path);
        if (writtenOnReturn) // else the panel reports when its worker is done
            statusBar()->showMessage(tr("Wrote %1").arg(path), 5000);
    } catch (const Error &e) {
        messages_->showError(QString::fromStdString(e.what()));
    }
}

void MainWindow::exportView(bool activations)
{
    const QString filter = activations ? tr("PNG image (*.png);;SVG drawing (*.svg);;NumPy array (*.npy)")
                                       : tr("PNG image (*.png);;SVG drawing (*.svg)");
    const QString path = QFileDialog::getSaveFileName(this, activations ? tr("Export activations") : tr("Export filters"),
                                                      suggestedExportName(activations ? "activations" : "filters", "png"),
                                                      filter);
    if (path.isEmpty())
        return;
    int width = 2048;
    if (!path.endsWith(".npy", Qt::CaseInsensitive)) {
        bool ok = false;
        width = QInputDialog::getInt(this, tr("Export"), tr("Width in pixels:"), 2048, 64, 32768, 64, &ok);
        if (!ok)
            return;
    }
    try {
        activations ? activations_->exportTo(path, width) : filters_->exportTo(path, width);
        statusBar()->showMessage(tr("Wrote %1").arg(path), 5000);
    } catch (const Error &e) {
        messages_->showError(QString::fromStdString(e.what()));
    }
}

} // namespace convscope
