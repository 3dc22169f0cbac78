#include "panels/UnitsPanel.h"

#include "explain/PatchReconstructions.h"
#include "explain/Reconstructor.h"
#include "widgets/SynthesisStrip.h"
#include "widgets/TileGridView.h"
#include "jobs/Workspace.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QSlider>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>

namespace convscope {

namespace {

/// Longest side of a patch in the layer grid (mosaics are shown about 96 pixels wide: 3 patches of 32).
constexpr int kGridPatchSide = 48;

enum SortOrder { ByUnit, ByStrongest, BySelectivity, DeadFirst };

QString thousands(qint64 n)
{
    return QLocale(QLocale::English).toString(n);
}

} // namespace

UnitsPanel::UnitsPanel(Workspace *workspace, QWidget *parent)
    : QWidget(parent), workspace_(workspace), scans_(new ScanController(this)),
      scanButton_(new QPushButton(tr("Scan dataset"))), progress_(new QProgressBar), cancel_(new QToolButton),
      status_(new QLabel), count_(new QLabel), unitTitle_(new QLabel), layer_(new QComboBox), sort_(new QComboBox),
      hideDead_(new QCheckBox(tr("Hide dead units"))), grid_(new TileGridView), patches_(new TileGridView),
      images_(new TileGridView), synthesis_(new SynthesisStrip), projection_(new QComboBox),
      projectProgress_(new QProgressBar), checkpointRow_(new QWidget),
      checkpointSlider_(new QSlider(Qt::Horizontal)), checkpointLabel_(new QLabel),
      evolutionButton_(new QPushButton(tr("Evolution…"))), projectStop_(new QToolButton), lookJobs_(new JobLane(this)),
      layerJobs_(new JobLane(this)), unitJobs_(new JobLane(this)), projectJobs_(new JobLane(this)),
      orderJobs_(new JobLane(this)), checkpointJobs_(new JobLane(this))
{
    for (JobLane *lane : {lookJobs_, layerJobs_, unitJobs_, projectJobs_, orderJobs_, checkpointJobs_})
        connect(lane, &JobLane::settled, this, &UnitsPanel::loaded);
    for (JobLane *lane : {layerJobs_, projectJobs_, orderJobs_}) // work that captures values only
        lane->setWaitOnDestroy(false);
    projection_->addItems({tr("Patches only"), tr("+ Deconvnet"), tr("+ Guided backprop"), tr("+ Gradient")});
    projection_->setToolTip(tr("Show each patch beside its unit projected back to the input (Zeiler & Fergus); "
                               "the whole layer is projected in the background and cached in the project"));
    projectProgress_->setMaximumWidth(180);
    projectStop_->setText(tr("Stop"));
    projectStop_->setToolTip(tr("Stop cropping or projecting the layer's patches (projected units stay cached)"));
    hideWorkBar();
    scanButton_->setToolTip(tr("Find every unit's top 9 patches and max-response images over the dataset. "
                               "Stopped scans resume where they stopped; finished ones are reused."));
    cancel_->setText(tr("Stop"));
    cancel_->setToolTip(tr("Stop after the current batch; finished images are kept and the scan resumes later"));
    progress_->setMinimumWidth(220); // "12,345 of 70,000 images" on one line
    progress_->setMaximumWidth(300);
    progress_->hide();
    cancel_->hide();
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    sort_->addItems({tr("Unit order"), tr("Strongest first"), tr("Most class-selective first"), tr("Dead units first")});
    layer_->setMinimumContentsLength(18);
    count_->setWordWrap(true); // "32 of 32 units · 0 dead · field 3×3 px" wraps rather than widening the page
    layer_->setSizeAdjustPolicy(QComboBox::AdjustToContents);

    layOut();

    connect(scanButton_, &QPushButton::clicked, this, &UnitsPanel::startScan);
    connect(cancel_, &QToolButton::clicked, scans_, &ScanController::cancel);
    connectScans();
    connect(layer_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int slot) {
        showLayer(slot);
        // Linked views: the layer tree (and the filters and activations) follow the layer shown here.
        if (auto model = workspace_->model(); model && slot >= 0 && slot < static_cast<int>(scannedLayers_.size()))
            workspace_->selectLayer(model->layer(scannedLayers_[static_cast<size_t>(slot)]).index);
    });
    connect(sort_, qOverload<int>(&QComboBox::currentIndexChanged), this, &UnitsPanel::applyOrder);
    connect(hideDead_, &QCheckBox::toggled, this, &UnitsPanel::applyOrder);
    connect(projection_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        stopProjection();
        applyOrder();
        projectLayer();
        if (unitData_)
            showUnit(unitData_->unit);
    });
    connect(projectStop_, &QToolButton::clicked, this, [this] {
        layerJobs_->cancel(); // cropping a layer's patches, or
        stopProjection();     // projecting them
    });
    connect(grid_, &TileGridView::tileClicked, this, [this](int i) {
        if (i >= 0 && i < static_cast<int>(shown_.size()))
            showUnit(shown_[static_cast<size_t>(i)]);
    });
    auto open = [this](bool byMean, int i) {
        if (!layerData_ || !unitData_ || unitData_->unit < 0)
            return;
        const auto &rank = (byMean ? layerData_->byMean : layerData_->byMax)[static_cast<size_t>(unitData_->unit)];
        if (!byMean && projectionRule())
            i /= 2; // pairs: patch, projection
        if (i >= 0 && i < static_cast<int>(rank.size()))
            Q_EMIT openImage(workspace_->datasetPath() + "#" + QString::number(rank[static_cast<size_t>(i)].image));
    };
    connect(patches_, &TileGridView::tileClicked, this, [open](int i) { open(false, i); });
    connect(images_, &TileGridView::tileClicked, this, [open](int i) { open(true, i); });
    connect(workspace_, &Workspace::modelChanged, this, &UnitsPanel::lookForScan);
    connect(checkpointSlider_, &QSlider::valueChanged, this, &UnitsPanel::switchCheckpoint);
    connect(evolutionButton_, &QPushButton::clicked, this, &UnitsPanel::evolutionRequested);
    connect(workspace_, &Workspace::datasetChanged, this, &UnitsPanel::lookForScan);
    connect(workspace_, &Workspace::layerChanged, this, [this](int index) {
        if (!workspace_->model() || index < 0)
            return;
        const std::string path = workspace_->model()->layers()[static_cast<size_t>(index)].path;
        auto it = std::find(scannedLayers_.begin(), scannedLayers_.end(), path);
        if (it != scannedLayers_.end())
            layer_->setCurrentIndex(static_cast<int>(it - scannedLayers_.begin()));
    });
    reset();
}

void UnitsPanel::layOut()
{
    auto *top = new QHBoxLayout;
    top->addWidget(scanButton_);
    top->addWidget(progress_);
    top->addWidget(cancel_);
    top->addWidget(status_, 1);
    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Layer")));
    controls->addWidget(layer_);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("Sort")));
    controls->addWidget(sort_);
    controls->addWidget(hideDead_);
    controls->addSpacing(12);
    controls->addWidget(projection_);
    controls->addWidget(projectProgress_);
    controls->addWidget(projectStop_);
    controls->addStretch(1);
    controls->addWidget(count_);

    auto *row = new QHBoxLayout(checkpointRow_);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(new QLabel(tr("Checkpoint")));
    row->addWidget(checkpointSlider_, 1);
    row->addWidget(checkpointLabel_);
    row->addWidget(evolutionButton_);
    checkpointSlider_->setPageStep(1);
    checkpointSlider_->setTracking(false); // a drag opens the checkpoint where it is released, not every one passed
    checkpointSlider_->setTickPosition(QSlider::TicksBelow);
    checkpointSlider_->setToolTip(tr("Show the layer's units at another checkpoint of the training run (each "
                                     "checkpoint is scanned once; Evolution… scans them all)"));
    evolutionButton_->setToolTip(tr("Scan every checkpoint and see which layers settle first, and how the "
                                    "strongest units changed"));
    checkpointRow_->hide();

    // The unit's detail scrolls as one column: its patches and images are drawn large enough to read (tiles up to
    // 112 px, captions whole) rather than squeezed into a third of the height each.
    auto *detail = new QWidget;
    auto *dl = new QVBoxLayout(detail);
    dl->setContentsMargins(0, 0, 4, 0);
    unitTitle_->setWordWrap(true);
    dl->addWidget(unitTitle_);
    for (TileGridView *view : {patches_, images_}) {
        view->setFitWidth(112);
        view->setKeepColumns(true);
        view->setGrowToContents(true);
    }
    auto *patchTitle = new QLabel(tr("<b>Top patches</b> (click one to open its image)"));
    patchTitle->setWordWrap(true);
    dl->addWidget(patchTitle);
    dl->addWidget(patches_);
    auto *imageTitle = new QLabel(tr("<b>Max-response images</b> by mean activation, response overlaid"));
    imageTitle->setWordWrap(true);
    dl->addWidget(imageTitle);
    dl->addWidget(images_);
    dl->addWidget(synthesis_);
    dl->addStretch(1);
    auto *detailScroll = new QScrollArea;
    detailScroll->setWidget(detail);
    detailScroll->setWidgetResizable(true);
    detailScroll->setFrameShape(QFrame::NoFrame);

    auto *split = new QSplitter;
    split->addWidget(grid_);
    split->addWidget(detailScroll);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({500, 500});
    grid_->setFitWidth(96);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(checkpointRow_);
    layout->addLayout(controls);
    layout->addWidget(split, 1);
}

void UnitsPanel::connectScans()
{
    connect(scans_, &ScanController::started, this, [this](qint64 at, qint64 total) {
        progress_->setRange(0, static_cast<int>(total));
        progress_->setValue(static_cast<int>(at));
        progress_->setFormat(tr("%v of %m images"));
        // The first report comes after a whole batch (decoding and the forward pass): say what is happening.
        status_->setText(tr("Running the first batch (up to %1 images: decoding and the forward pass)…")
                             .arg(std::min<qint64>(total - at, StoredScan::Options{}.scan.batchSize)));
    });
    connect(scans_, &ScanController::progress, this, [this](qint64 done, qint64 total, double rate) {
        progress_->setValue(static_cast<int>(done));
        const double left = rate > 0 ? static_cast<double>(total - done) / rate : 0;
        status_->setText(tr("Scanning: %1 images/s, %2 s left").arg(rate, 0, 'f', 0).arg(left, 0, 'f', 0));
    });
    connect(scans_, &ScanController::finished, this, [this](const QString &project, qint64 id, bool) {
        setBusy(false, {});
        scanReady(project, id);
    });
    connect(scans_, &ScanController::cancelled, this, [this](qint64 done, qint64 total) {
        setBusy(false, tr("Scan stopped at %1 of %2 images; finished images are kept — Scan dataset resumes it.")
                           .arg(thousands(done), thousands(total)));
    });
    connect(scans_, &ScanController::failed, this, [this](const QString &message) {
        setBusy(false, tr("Scan failed: %1").arg(message));
    });
}

UnitsPanel::~UnitsPanel() = default; // the lanes and the scan controller stop their work and wait for it

bool UnitsPanel::busy() const
{
    return lookJobs_->pending() + layerJobs_->pending() + unitJobs_->pending() + projectJobs_->pending() +
                   orderJobs_->pending() + checkpointJobs_->pending() > 0 ||
           scans_->running() || synthesis_->busy();
}

template <class T>
void UnitsPanel::runJob(JobLane *lane, std::function<T()> work, std::function<void(T &)> done,
                        std::function<void(const QString &)> failed)
{
    lane->run<T>(std::move(work), std::move(done),
                 failed ? failed : [this](const QString &message) { status_->setText(message); });
}

void UnitsPanel::waitForIdle()
{
    for (JobLane *lane : {lookJobs_, layerJobs_, unitJobs_, projectJobs_, orderJobs_, checkpointJobs_})
        lane->waitForIdle();
    synthesis_->waitForIdle();
}

void UnitsPanel::setBusy(bool busy, const QString &text)
{
    progress_->setVisible(busy);
    cancel_->setVisible(busy);
    scanButton_->setEnabled(!busy && workspace_->model() && workspace_->dataset());
    if (!text.isEmpty() || busy)
        status_->setText(text);
}

void UnitsPanel::reset()
{
    stopProjection();
    for (JobLane *lane : {lookJobs_, layerJobs_, unitJobs_, orderJobs_})
        lane->drop();
    project_.clear();
    scanId_ = -1;
    shownUnit_ = -1;
    scannedLayers_.clear();
    layerData_.reset();
    unitData_.reset();
    shown_.clear();
    const QSignalBlocker block(layer_);
    layer_->clear();
    layer_->setEnabled(false);
    grid_->clear(workspace_->model() && workspace_->dataset()
                     ? tr("Not scanned yet.\n\nPress Scan dataset (above) to find every unit's top 9 patches\n"
                          "and max-response images over the %1 images of the dataset.")
                           .arg(thousands(workspace_->dataset()->size()))
                     : tr("Open a model and a dataset, then scan the dataset here."));
    patches_->clear();
    images_->clear();
    synthesis_->clearUnit();
    unitTitle_->setText(tr("Click a unit to see its patches."));
    count_->clear();
    const bool ready = workspace_->model() && workspace_->dataset();
    scanButton_->setEnabled(ready && !scans_->running());
    status_->setText(ready ? tr("Not scanned yet: a scan finds every unit's top 9 patches over the %1 images of "
                                "the dataset.")
                                 .arg(thousands(workspace_->dataset()->size()))
                           : tr("Open a model and a dataset to scan."));
}

void UnitsPanel::setCheckpoints(const CheckpointSeries &series)
{
    checkpoints_ = series;
    {
        const QSignalBlocker block(checkpointSlider_);
        checkpointSlider_->setRange(0, std::max(0, static_cast<int>(series.size()) - 1));
    }
    indexCheckpoint();
}

void UnitsPanel::indexCheckpoint()
{
    checkpointIndex_ = -1;
    const QString path = workspace_->modelPath();
    if (!path.isEmpty() && checkpoints_.size() >= 2) {
        const QFileInfo model(path);
        for (size_t i = 0; i < checkpoints_.size() && checkpointIndex_ < 0; ++i)
            if (QFileInfo(QString::fromStdString(checkpoints_.checkpoints()[i].path)) == model)
                checkpointIndex_ = static_cast<int>(i);
        if (checkpointIndex_ < 0) { // another file with a checkpoint's contents (hashing can take a while)
            const CheckpointSeries series = checkpoints_;
            runJob<int>(
                checkpointJobs_, [series, path] { return series.indexOf(path.toStdString()); },
                [this, path](int &i) {
                    if (workspace_->modelPath() != path)
                        return;
                    checkpointIndex_ = i;
                    followCheckpoint();
                },
                [](const QString &) {}); // unreadable: simply not one of the checkpoints
        }
    }
    followCheckpoint();
}

void UnitsPanel::followCheckpoint()
{
    const int i = checkpoint();
    checkpointRow_->setVisible(i >= 0 && checkpoints_.size() >= 2);
    if (i < 0)
        return;
    const QSignalBlocker block(checkpointSlider_);
    checkpointSlider_->setValue(i);
    checkpointLabel_->setText(tr("%1 (%2 of %3)")
                                  .arg(QString::fromStdString(checkpoints_.checkpoints()[static_cast<size_t>(i)].label))
                                  .arg(i + 1)
                                  .arg(checkpoints_.size()));
}

void UnitsPanel::switchCheckpoint(int index)
{
    if (index < 0 || index >= static_cast<int>(checkpoints_.size()) || index == checkpointIndex_)
        return;
    // Keep what is shown: the layer (selected again when the checkpoint arrives) and the unit.
    const int slot = layer_->currentIndex();
    pendingLayerPath_ = slot >= 0 && slot < static_cast<int>(scannedLayers_.size())
                            ? scannedLayers_[static_cast<size_t>(slot)]
                            : std::string();
    pendingUnit_ = unitData_ ? unitData_->unit : -1;
    checkpointLabel_->setText(tr("opening %1…")
                                  .arg(QString::fromStdString(checkpoints_.checkpoints()[static_cast<size_t>(index)].label)));
    workspace_->openModel(QString::fromStdString(checkpoints_.checkpoints()[static_cast<size_t>(index)].path));
}

void UnitsPanel::lookForScan()
{
    scans_->cancel(); // a scan of the previous model or dataset stops (and can resume later)
    reset();
    indexCheckpoint();
    if (auto m = workspace_->model(); m && !pendingLayerPath_.empty()) {
        // A checkpoint of the same architecture: the layer shown before is selected before the workspace picks one.
        for (const auto &l : m->layers())
            if (l.path == pendingLayerPath_)
                workspace_->selectLayer(l.index);
        pendingLayerPath_.clear();
    }
    auto model = workspace_->model();
    auto dataset = workspace_->dataset();
    const QString datasetPath = workspace_->datasetPath();
    if (!model || !dataset || datasetPath.isEmpty())
        return;
    const std::string dir = StoredScan::defaultProjectDir(datasetPath.toStdString());
    if (!QDir(QString::fromStdString(dir)).exists("catalog.sqlite"))
        return;
    struct Found {
        QString project;
        std::optional<ProjectStore::ScanInfo> info;
    };
    runJob<Found>(
        lookJobs_,
        [model, dataset, datasetPath, dir]() {
            ProjectStore store(dir);
            Scan probe(model, *dataset, Scan::Options{});
            return Found{QString::fromStdString(dir), store.findScan(*model, datasetPath.toStdString(), probe)};
        },
        [this](Found &found) {
            if (!found.info || !found.info->complete)
                pendingUnit_ = -1; // nothing shown that it could be kept in
            if (!found.info)
                return;
            if (found.info->complete)
                showScan(found.project, *found.info);
            else
                status_->setText(tr("A scan stopped at %1 of %2 images; Scan dataset resumes it.")
                                     .arg(thousands(found.info->done), thousands(found.info->total)));
        });
}

void UnitsPanel::startScan()
{
    if (!workspace_->model() || !workspace_->dataset() || scans_->running())
        return;
    setBusy(true, tr("Preparing the scan: finding the model's layers and opening the project…"));
    progress_->setRange(0, 0);
    scans_->start(workspace_->model(), workspace_->dataset(), workspace_->datasetPath(), StoredScan::Options{});
}

void UnitsPanel::scanReady(const QString &project, qint64 scanId)
{
    // The catalogue is read on a worker, like everything else the panel loads.
    // A scan finished after another model was opened is not this model's — unless that file holds the same model
    // (a final checkpoint saved again as the model itself: scans are identified by the file's contents).
    struct Ready {
        ProjectStore::ScanInfo info;
        bool sameModel = false;
    };
    const QString modelPath = workspace_->modelPath();
    runJob<Ready>(
        lookJobs_,
        [project, scanId, modelPath]() {
            Ready r{ProjectStore(project.toStdString()).scan(scanId), false};
            r.sameModel = QFileInfo(QString::fromStdString(r.info.modelPath)) == QFileInfo(modelPath);
            if (!r.sameModel) {
                try {
                    r.sameModel = ProjectStore::sha256(modelPath.toStdString()) == r.info.modelSha256;
                } catch (const Error &) { // the open model's file is gone: not the scan's
                }
            }
            return r;
        },
        [this, project, modelPath](Ready &r) {
            if (r.sameModel && workspace_->modelPath() == modelPath)
                showScan(project, r.info);
        });
}

void UnitsPanel::lookForScanIfIdle()
{
    if (scanId_ < 0 && !scans_->running())
        lookForScan();
}

void UnitsPanel::showScan(const QString &project, const ProjectStore::ScanInfo &info)
{
    auto model = workspace_->model();
    if (!model || !workspace_->dataset())
        return;
    project_ = project; // the callers checked that the scan is the open model's
    scanId_ = info.id;
    Q_EMIT scanShown(project, info.id);
    const qint64 scanId = info.id;
    scannedLayers_ = info.layers;
    status_->setText(tr("Scan %1: %2 images, %3 s of scanning").arg(scanId).arg(thousands(info.total)).arg(info.seconds, 0, 'f', 1));
    status_->setToolTip(tr("Stored in %1").arg(QDir::toNativeSeparators(project)));
    {
        const QSignalBlocker block(layer_);
        layer_->clear();
        for (const auto &l : info.layers) {
            const LayerInfo &li = model->layer(l);
            layer_->addItem(QString::fromStdString(li.displayName.empty() ? li.path : li.displayName + " (" + li.path + ")"));
        }
        layer_->setEnabled(true);
    }
    // Start on the layer selected in the tree when it was scanned, else the first.
    int slot = 0;
    if (workspace_->layer() >= 0) {
        auto it = std::find(info.layers.begin(), info.layers.end(),
                            model->layers()[static_cast<size_t>(workspace_->layer())].path);
        if (it != info.layers.end())
            slot = static_cast<int>(it - info.layers.begin());
    }
    layer_->setCurrentIndex(slot);
    showLayer(slot);
}

void UnitsPanel::showLayer(int slot)
{
    if (slot < 0 || scanId_ < 0)
        return;
    auto model = workspace_->model();
    auto dataset = workspace_->dataset();
    const QString project = project_;
    const qint64 id = scanId_;
    stopProjection();
    orderJobs_->drop();
    grid_->clear(tr("Cropping patches…"));
    patches_->clear();
    images_->clear();
    unitData_.reset();
    showWorkBar(tr("cropping %v/%m units"), 0);
    JobHandlers<LayerData> on;
    on.progress = [this](std::int64_t done, std::int64_t total) { advanceWorkBar(done, total); };
    on.done = [this](LayerData &d) {
        hideWorkBar();
        layerData_ = std::make_shared<LayerData>(std::move(d));
        applyOrder();
        const std::int64_t wanted = pendingUnit_;
        pendingUnit_ = -1;
        showUnit(wanted >= 0 ? wanted : shown_.empty() ? -1 : shown_.front());
        projectLayer();
    };
    on.cancelled = [this] {
        hideWorkBar();
        grid_->clear(tr("Stopped cropping patches. Choose the layer again to load it."));
    };
    on.failed = [this](const JobError &e) {
        hideWorkBar();
        grid_->clear();
        status_->setText(e.message);
    };
    layerJobs_->start<LayerData>(
        [model, dataset, project, id, slot](JobContext &job) {
            ProjectStore store(project.toStdString());
            TopPatchSheets sheets(model, *dataset, store, id);
            LayerData d;
            d.slot = slot;
            // Patches at the size the grid shows them: a 2048-unit layer costs megabytes, not gigabytes.
            d.poster = sheets.poster(slot, {}, kGridPatchSide, &job);
            d.summaries = sheets.summaries(slot);
            d.byMax = sheets.ranking(slot, TopKTracker::Statistic::SpatialMax);
            d.byMean = sheets.ranking(slot, TopKTracker::Statistic::SpatialMean);
            return d;
        },
        on);
}

void UnitsPanel::applyOrder()
{
    if (!layerData_)
        return;
    const auto &sum = layerData_->summaries;
    std::vector<std::int64_t> order;
    for (const auto &u : sum)
        if (!(hideDead_->isChecked() && u.dead))
            order.push_back(u.unit);
    const int how = sort_->currentIndex();
    auto key = [&](std::int64_t u) -> const TopPatchSheets::UnitSummary & { return sum[static_cast<size_t>(u)]; };
    if (how == ByStrongest)
        std::stable_sort(order.begin(), order.end(),
                         [&](auto a, auto b) { return key(a).strongest > key(b).strongest; });
    else if (how == BySelectivity)
        std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
            return key(a).selectivity != key(b).selectivity ? key(a).selectivity > key(b).selectivity
                                                            : key(a).strongest > key(b).strongest;
        });
    else if (how == DeadFirst)
        std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return key(a).dead && !key(b).dead; });
    shown_ = order;
    const auto rule = projectionRule();
    const auto projected = rule ? layerData_->projected.find(static_cast<int>(*rule)) : layerData_->projected.end();
    const TileSet &poster = projected != layerData_->projected.end() ? projected->second : layerData_->poster;
    grid_->setFitWidth(projected != layerData_->projected.end() ? 192 : 96); // two mosaics side by side
    TileSet view; // no title: the layer box and the count line say what this is
    view.kind = poster.kind;
    if (!order.empty()) {
        auto model = workspace_->model();
        for (auto u : order) {
            const auto &s = key(u);
            std::string caption = poster.captions[static_cast<size_t>(u)];
            if (how == BySelectivity && s.dominantLabel >= 0 && model)
                caption = std::to_string(u) + " · " + model->label(s.dominantLabel) + " " +
                          std::to_string(static_cast<int>(s.selectivity * 100 + 0.5)) + "%";
            view.captions.push_back(caption);
        }
        // A wide layer's poster is hundreds of MB: in unit order it is shown as it is, else the reordered copy is
        // made on a worker, not here.
        orderJobs_->run<TileSet>(
            [view, all = poster.values, order]() mutable {
                const bool asIs = static_cast<std::int64_t>(order.size()) == all.size(0) &&
                                  std::is_sorted(order.begin(), order.end());
                view.values = asIs ? all : all.index_select(0, torch::tensor(order, torch::kInt64));
                return view;
            },
            [this](TileSet &ordered) {
                grid_->setTiles(std::move(ordered));
                highlightShownUnit();
            });
    } else {
        orderJobs_->drop();
        grid_->clear(tr("Every unit of this layer is dead (never above zero)."));
    }
    const auto dead = std::count_if(sum.begin(), sum.end(), [](const auto &u) { return u.dead; });
    QString field;
    if (auto model = workspace_->model(); model && layerData_->slot < static_cast<int>(scannedLayers_.size()))
        field = QString::fromStdString(model->layer(scannedLayers_[static_cast<size_t>(layerData_->slot)]).field.describe());
    count_->setText(tr("%1 of %2 units · %3 dead · field %4").arg(order.size()).arg(sum.size()).arg(dead).arg(field));
}

void UnitsPanel::highlightShownUnit()
{
    const auto at = std::find(shown_.begin(), shown_.end(), shownUnit_);
    grid_->setHighlighted(at == shown_.end() ? -1 : static_cast<int>(at - shown_.begin()));
}

void UnitsPanel::showUnit(std::int64_t unit)
{
    if (!layerData_ || unit < 0 || unit >= static_cast<std::int64_t>(layerData_->summaries.size())) {
        unitTitle_->setText(tr("Click a unit to see its patches."));
        return;
    }
    auto model = workspace_->model();
    auto dataset = workspace_->dataset();
    const QString project = project_;
    const qint64 id = scanId_;
    const int slot = layerData_->slot;
    const auto summary = layerData_->summaries[static_cast<size_t>(unit)];
    const auto rule = projectionRule();
    shownUnit_ = unit;
    highlightShownUnit();
    if (rule && (!reconstructor_ || &reconstructor_->model() != model.get()))
        reconstructor_ = std::make_shared<Reconstructor>(model);
    auto reconstructor = reconstructor_;
    QString title = tr("<b>Unit %1</b> of %2 · strongest response %3")
                        .arg(unit)
                        .arg(layer_->currentText())
                        .arg(static_cast<double>(summary.strongest), 0, 'g', 4);
    if (summary.dominantLabel >= 0 && model)
        title += tr(" · %1% of its top images are %2")
                     .arg(static_cast<int>(summary.selectivity * 100 + 0.5))
                     .arg(QString::fromStdString(model->label(summary.dominantLabel)));
    if (summary.dead)
        title += tr(" · <b>dead</b>: never above zero on this dataset");
    unitTitle_->setText(title);
    std::vector<std::int64_t> top;
    for (const auto &e : layerData_->byMax[static_cast<size_t>(unit)])
        top.push_back(e.image);
    std::sort(top.begin(), top.end());
    Q_EMIT unitShown(top);
    if (model && slot >= 0 && slot < static_cast<int>(scannedLayers_.size())) {
        std::vector<float> best;
        for (const auto &ranking : layerData_->byMax)
            best.push_back(ranking.empty() ? 0.f : ranking.front().value);
        synthesis_->setUnit(model, model->layer(scannedLayers_[static_cast<size_t>(slot)]).index, unit,
                            std::move(best));
    }
    runJob<UnitData>(
        unitJobs_,
        [model, dataset, project, id, slot, unit, rule, reconstructor]() {
            ProjectStore store(project.toStdString());
            TopPatchSheets sheets(model, *dataset, store, id);
            UnitData d;
            d.unit = unit;
            if (rule) {
                PatchReconstructions::Options o;
                o.rule = *rule;
                d.patches = PatchReconstructions(sheets, *reconstructor, o).unitSheet(slot, unit);
            } else {
                d.patches = sheets.unitPatches(slot, unit);
            }
            d.images = sheets.unitImages(slot, unit, true);
            return d;
        },
        [this](UnitData &d) {
            d.patches.title.clear(); // the labels above the views say what they show
            d.images.title.clear();
            unitData_ = std::make_shared<UnitData>(std::move(d));
            patches_->setTiles(unitData_->patches);
            images_->setTiles(unitData_->images);
        });
}

bool UnitsPanel::showLayerUnit(const std::string &layerPath, std::int64_t unit)
{
    auto it = std::find(scannedLayers_.begin(), scannedLayers_.end(), layerPath);
    if (it == scannedLayers_.end())
        return false;
    const int slot = static_cast<int>(it - scannedLayers_.begin());
    if (layerData_ && layerData_->slot == slot) {
        showUnit(unit);
        return true;
    }
    pendingUnit_ = unit;
    layer_->setCurrentIndex(slot); // loads the layer, then shows the unit
    return true;
}

std::optional<BackpropRule> UnitsPanel::projectionRule() const
{
    switch (projection_->currentIndex()) {
    case 1: return BackpropRule::Deconvnet;
    case 2: return BackpropRule::Guided;
    case 3: return BackpropRule::Gradient;
    default: return std::nullopt;
    }
}

bool UnitsPanel::layerProjected() const
{
    const auto rule = projectionRule();
    return rule && layerData_ && layerData_->projected.count(static_cast<int>(*rule)) > 0;
}

void UnitsPanel::stopProjection()
{
    projectJobs_->drop(); // asked to stop; a result still on its way is dropped
    hideWorkBar();
}

void UnitsPanel::showWorkBar(const QString &format, int total)
{
    projectProgress_->setFormat(format);
    projectProgress_->setRange(0, total);
    projectProgress_->setValue(0);
    projectProgress_->show();
    projectStop_->show();
}

void UnitsPanel::advanceWorkBar(std::int64_t done, std::int64_t total)
{
    projectProgress_->setRange(0, static_cast<int>(total));
    projectProgress_->setValue(static_cast<int>(done));
}

void UnitsPanel::hideWorkBar()
{
    projectProgress_->hide();
    projectStop_->hide();
}

void UnitsPanel::projectLayer()
{
    const auto rule = projectionRule();
    auto model = workspace_->model();
    auto dataset = workspace_->dataset();
    if (!rule || !layerData_ || !model || !dataset || layerProjected())
        return;
    if (!reconstructor_ || &reconstructor_->model() != model.get())
        reconstructor_ = std::make_shared<Reconstructor>(model);
    auto reconstructor = reconstructor_;
    const QString project = project_;
    const qint64 id = scanId_;
    const int slot = layerData_->slot;
    showWorkBar(tr("projecting %v/%m"), static_cast<int>(layerData_->summaries.size()));
    auto layer = layerData_;
    JobHandlers<TileSet> on;
    on.progress = [this](std::int64_t done, std::int64_t total) { advanceWorkBar(done, total); };
    on.done = [this, layer, rule](TileSet &poster) {
        hideWorkBar();
        layer->projected[static_cast<int>(*rule)] = std::move(poster);
        if (layer == layerData_)
            applyOrder();
    };
    on.cancelled = [this] { hideWorkBar(); };
    on.failed = [this](const JobError &e) {
        hideWorkBar();
        status_->setText(tr("Projecting the layer failed: %1").arg(e.message));
    };
    projectJobs_->start<TileSet>(
        [model, dataset, project, id, slot, rule, reconstructor](Progress &progress) {
            ProjectStore store(project.toStdString());
            TopPatchSheets sheets(model, *dataset, store, id);
            PatchReconstructions::Options o;
            o.rule = *rule;
            return PatchReconstructions(sheets, *reconstructor, o).poster(slot, {}, &progress);
        },
        on);
}

} // namespace convscope
