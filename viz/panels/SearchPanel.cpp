#include "panels/SearchPanel.h"

#include "widgets/AppStyle.h"
#include "panels/AdaptPanel.h"
#include "search/DescriptorIndex.h"
#include "common/Error.h"
#include "model/Model.h"
#include "data/ImageReference.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "search/RetrievalEvaluator.h"
#include "widgets/ProbeResultsView.h"
#include "scan/StoredScan.h"
#include "widgets/TileGridView.h"
#include "jobs/Workspace.h"

#include <QBarCategoryAxis>
#include <QHorizontalBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QTabWidget>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMouseEvent>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QScrollArea>
#include <QSplitter>
#include <QStyle>
#include <QTableWidget>
#include <QToolButton>
#include <QValueAxis>
#include <QVBoxLayout>

#include <torch/torch.h>

namespace convscope {

struct SearchPanel::Found {
    std::vector<DescriptorIndex::Hit> hits;
    torch::Tensor query;   ///< raw features of the query
    torch::Tensor stored;  ///< raw features of the hits, a row each
    TileSet tiles;
};

namespace {

QString shortName(const std::string &name)
{
    const QString n = QString::fromStdString(name);
    const int hash = n.lastIndexOf('#');
    return hash >= 0 ? n.mid(hash) : n.section('/', -1);
}

} // namespace

SearchPanel::SearchPanel(Workspace *workspace, QWidget *parent)
    : QWidget(parent), workspace_(workspace), openJobs_(new JobLane(this)), searchJobs_(new JobLane(this)),
      buildJobs_(new JobLane(this)), evalJobs_(new JobLane(this)), probeJobs_(new JobLane(this)), index_(new QComboBox),
      layer_(new QComboBox), descriptor_(new QComboBox), ann_(new QComboBox), pca_(new QSpinBox), k_(new QSpinBox),
      build_(new QPushButton(tr("Build index"))), evaluate_(new QPushButton(tr("Which layer describes best?"))),
      classify_(new QPushButton(tr("Which layer classifies best?"))), adapt_(new QPushButton(tr("Adapt…"))),
      openResult_(new QPushButton(tr("Open result as input"))),
      progress_(new QProgressBar), stop_(new QToolButton), status_(new QLabel), query_(new QLabel), whyTitle_(new QLabel),
      results_(new TileGridView), why_(new QListWidget), table_(new QTableWidget(0, 6)), chart_(new QChartView),
      probeView_(new ProbeResultsView), lowerTabs_(new QTabWidget)
{
    // Their work captures paths and options only: closing the tab need not wait for it (see JobLane).
    for (JobLane *lane : {openJobs_, buildJobs_, evalJobs_, probeJobs_})
        lane->setWaitOnDestroy(false);
    descriptor_->addItems({"fc", "spoc", "mac"});
    descriptor_->setToolTip(tr("fc: a fully connected output; spoc: sum-pooled maps; mac: max-pooled maps"));
    ann_->addItems({tr("exact"), "hnsw", "ivfpq"});
    ann_->setToolTip(tr("Exact search, or approximate (FAISS) for large collections"));
    pca_->setRange(0, 4096);
    pca_->setValue(128);
    pca_->setPrefix(tr("PCA "));
    pca_->setToolTip(tr("Compress descriptors to this many dimensions (0: no PCA)"));
    k_->setRange(1, 500);
    k_->setValue(24);
    k_->setPrefix(tr("k "));
    progress_->setMaximumWidth(200);
    progress_->hide();
    stop_->setText(tr("Stop"));
    stop_->setToolTip(tr("Stop building the index, evaluating the layers or training the probes"));
    classify_->setToolTip(tr("Train a linear classifier on each layer's stored features and compare their accuracy "
                             "on held-out images (scan with features of the layers to compare)"));
    adapt_->setToolTip(tr("Adapt a layer's descriptor to the dataset's classes (triplet / contrastive loss), with "
                          "before/after retrieval; the adapted index joins the list"));
    stop_->hide();
    status_->setWordWrap(true);
    query_->setFixedSize(168, 168);
    query_->setAlignment(Qt::AlignCenter);
    query_->setFrameShape(QFrame::StyledPanel);
    query_->setCursor(Qt::CrossCursor);
    query_->setToolTip(tr("Drag a rectangle to search by that region; click to search with the whole image"));
    query_->installEventFilter(this);
    whyTitle_->setWordWrap(true);
    why_->setToolTip(tr("Click a channel to see its top-9 patches in the Units tab"));
    why_->setMinimumHeight(40); // two rows: the query column fits without scrolling in a 1920×1080 window
    table_->setHorizontalHeaderLabels({tr("Layer"), tr("Descriptor"), tr("PCA"), tr("Dims"), tr("mAP"), tr("P@10")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    chart_->setMinimumHeight(150);
    chart_->setRenderHint(QPainter::Antialiasing);
    AppStyle::clearChart(chart_, tr("mAP per layer and descriptor: press \"Which layer describes best?\""));

    layOut();

    connect(build_, &QPushButton::clicked, this, &SearchPanel::buildIndex);
    connect(evaluate_, &QPushButton::clicked, this, &SearchPanel::evaluate);
    connect(classify_, &QPushButton::clicked, this, &SearchPanel::classify);
    connect(adapt_, &QPushButton::clicked, this, &SearchPanel::adapt);
    connect(probeView_, &ProbeResultsView::layerClicked, this, [this](const QString &layer) {
        auto model = workspace_->model();
        if (!model)
            return;
        for (const auto &l : model->layers())
            if (l.path == layer.toStdString())
                workspace_->selectLayer(l.index);
    });
    connect(index_, qOverload<int>(&QComboBox::currentIndexChanged), this, &SearchPanel::openIndex);
    connect(stop_, &QToolButton::clicked, this, &SearchPanel::stop);
    connect(k_, qOverload<int>(&QSpinBox::valueChanged), this, [this] { search(region_); });
    connect(results_, &TileGridView::tileClicked, this, &SearchPanel::showWhy);
    connect(openResult_, &QPushButton::clicked, this, [this] {
        if (found_ && open_ && selected_ >= 0 && selected_ < static_cast<int>(found_->hits.size()))
            Q_EMIT openImage(workspace_->datasetPath() + "#" +
                             QString::number(found_->hits[static_cast<size_t>(selected_)].image));
    });
    connect(why_, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
        if (open_)
            Q_EMIT showUnit(QString::fromStdString(open_->layer()), item->data(Qt::UserRole).toInt());
    });
    connect(workspace_, &Workspace::inputChanged, this, [this] {
        region_ = QRect();
        drawQuery();
        search();
    });
    connect(workspace_, &Workspace::modelChanged, this, &SearchPanel::refreshLayers);
    connect(workspace_, &Workspace::datasetChanged, this, &SearchPanel::refreshIndexes);
    connect(workspace_, &Workspace::modelChanged, this, &SearchPanel::refreshIndexes);
    refreshLayers();
    refreshIndexes();
}

SearchPanel::~SearchPanel() = default; // the lanes stop their jobs and wait for them

bool SearchPanel::busy() const
{
    return openJobs_->pending() + searchJobs_->pending() + buildJobs_->pending() + evalJobs_->pending() +
               probeJobs_->pending() >
           0;
}

void SearchPanel::waitForIdle()
{
    for (JobLane *lane : {openJobs_, searchJobs_, buildJobs_, evalJobs_, probeJobs_})
        lane->waitForIdle();
}

void SearchPanel::stop()
{
    buildJobs_->cancel();
    evalJobs_->cancel();
    probeJobs_->cancel();
}

void SearchPanel::setWorking(bool working)
{
    if (working) {
        progress_->setRange(0, 0);
        progress_->setValue(0);
    }
    progress_->setVisible(working);
    stop_->setVisible(working);
    build_->setEnabled(!working);
    evaluate_->setEnabled(!working);
    classify_->setEnabled(!working);
}

void SearchPanel::layOut()
{
    // Two rows: searching (the index, k, the comparisons) and building a new index.
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Index")));
    bar->addWidget(index_, 1);
    bar->addWidget(k_);
    bar->addSpacing(12);
    bar->addWidget(evaluate_);
    bar->addWidget(classify_);
    bar->addWidget(adapt_);
    auto *buildBar = new QHBoxLayout;
    buildBar->addWidget(new QLabel(tr("New index from")));
    buildBar->addWidget(layer_);
    buildBar->addWidget(descriptor_);
    buildBar->addWidget(pca_);
    buildBar->addWidget(ann_);
    buildBar->addWidget(build_);
    buildBar->addWidget(progress_);
    buildBar->addWidget(stop_);
    buildBar->addStretch(1);
    auto *side = new QVBoxLayout;
    side->addWidget(new QLabel(tr("<b>Query</b> (the current input)")));
    side->addWidget(query_);
    side->addWidget(openResult_);
    side->addWidget(whyTitle_);
    side->addWidget(why_, 1);
    // The query column scrolls on its own, so a small window shrinks it instead of making the page scroll.
    auto *sideWidget = new QWidget;
    sideWidget->setLayout(side);
    auto *sideScroll = new QScrollArea;
    sideScroll->setWidget(sideWidget);
    sideScroll->setWidgetResizable(true);
    sideScroll->setFrameShape(QFrame::NoFrame);
    sideScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    sideScroll->setFixedWidth(sideWidget->minimumSizeHint().width() + style()->pixelMetric(QStyle::PM_ScrollBarExtent));
    sideScroll->setMinimumHeight(120);
    auto *top = new QHBoxLayout;
    top->addWidget(sideScroll);
    top->addWidget(results_, 1);
    auto *upper = new QWidget;
    upper->setLayout(top);
    auto *lower = new QSplitter;
    lower->addWidget(table_);
    // The chart grows with its rows (a layer × descriptor × PCA size each, 18 px) and scrolls, so bars and their
    // labels stay readable for many layers.
    auto *chartScroll = new QScrollArea;
    chartScroll->setWidget(chart_);
    chartScroll->setWidgetResizable(true);
    chartScroll->setFrameShape(QFrame::NoFrame);
    lower->addWidget(chartScroll);
    lower->setSizes({400, 500});
    lowerTabs_->addTab(lower, tr("Describes best (retrieval)"));
    lowerTabs_->addTab(probeView_, tr("Classifies best (linear probes)"));
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(upper);
    split->addWidget(lowerTabs_);
    split->setSizes({480, 320});
    split->setStretchFactor(0, 3); // the results keep the larger share when the window is small
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addLayout(buildBar);
    layout->addWidget(status_);
    layout->addWidget(split, 1);
}

void SearchPanel::openIndex()
{
    open_.reset();
    const QString name = index_->currentText();
    const QString dir = project();
    if (name.isEmpty() || dir.isEmpty())
        return;
    struct Opened {
        std::shared_ptr<const DescriptorIndex> index;
        torch::Tensor stored;
        std::shared_ptr<const Model> model;
    };
    auto current = workspace_->model();
    const std::string currentPath = current ? current->path() : std::string();
    indexModel_.reset();
    openJobs_->run<Opened>(
        [dir, name, currentPath]() {
            auto index = std::make_shared<const DescriptorIndex>(
                DescriptorIndex::open(dir.toStdString(), name.toStdString()));
            // An index made by another model (an adapted descriptor's) describes queries with that model.
            std::shared_ptr<const Model> model;
            if (QFileInfo(QString::fromStdString(index->modelPath())).canonicalFilePath() !=
                QFileInfo(QString::fromStdString(currentPath)).canonicalFilePath())
                model = Model::load(index->modelPath());
            // The dataset's raw features, read once per index: every result's "why similar" needs its row.
            return Opened{index, index->datasetFeatures(), model};
        },
        [this](Opened &opened) {
            const auto &index = opened.index;
            open_ = index;
            stored_ = opened.stored;
            indexModel_ = opened.model;
            status_->setText(tr("Index %1: %2 images, %3-d %4 descriptors of %5, %6 search")
                                 .arg(QString::fromStdString(index->name()))
                                 .arg(index->size())
                                 .arg(index->index().dims())
                                 .arg(descriptorName(index->pooling()))
                                 .arg(QString::fromStdString(index->layer()))
                                 .arg(QString::fromStdString(index->index().kind())));
            search();
        },
        [this](const QString &message) { status_->setText(message); });
}

QString SearchPanel::project() const
{
    if (workspace_->datasetPath().isEmpty())
        return {};
    return QString::fromStdString(StoredScan::defaultProjectDir(workspace_->datasetPath().toStdString()));
}

void SearchPanel::refreshLayers()
{
    layer_->clear();
    auto model = workspace_->model();
    if (!model)
        return;
    int preferred = -1;
    for (int i : DescriptorIndex::layerChoices(*model)) {
        const LayerInfo &l = model->layers()[static_cast<size_t>(i)];
        layer_->addItem(QString::fromStdString(l.path));
        if (l.outputShape.size() == 2 && l.kind == LayerKind::Linear && preferred < 0)
            preferred = layer_->count() - 1;
    }
    if (preferred >= 0)
        layer_->setCurrentIndex(preferred);
}

void SearchPanel::refreshIndexes()
{
    open_.reset();
    stored_ = torch::Tensor();
    const QString dir = project();
    {
        const QSignalBlocker block(index_);
        index_->clear();
        if (!dir.isEmpty() && QDir(dir).exists())
            for (const auto &name : DescriptorIndex::list(dir.toStdString()))
                index_->addItem(QString::fromStdString(name));
    }
    if (index_->count())
        Q_EMIT index_->currentIndexChanged(0);
    else
        status_->setText(dir.isEmpty() ? tr("Open a dataset to search it.")
                                       : tr("No search index yet: pick a layer and press Build index."));
}

void SearchPanel::buildIndex()
{
    const QString dir = project();
    if (dir.isEmpty() || layer_->currentText().isEmpty())
        return;
    DescriptorIndex::Options o;
    o.layer = layer_->currentText().toStdString();
    o.pooling = parseDescriptor(descriptor_->currentText().toStdString());
    o.pipeline.pca = pca_->value();
    o.ann = ann_->currentIndex() == 0 ? std::string() : ann_->currentText().toStdString();
    setWorking(true);
    status_->setText(tr("Building the index…"));
    JobHandlers<std::string> on;
    on.progress = [this](std::int64_t done, std::int64_t total) {
        progress_->setRange(0, static_cast<int>(total));
        progress_->setValue(static_cast<int>(done));
    };
    on.done = [this](std::string &name) {
        setWorking(false);
        refreshIndexes();
        index_->setCurrentText(QString::fromStdString(name));
        Q_EMIT updated();
    };
    on.cancelled = [this] {
        setWorking(false);
        status_->setText(tr("Index build stopped; features computed so far are kept in the project."));
        Q_EMIT updated();
    };
    on.failed = [this](const JobError &e) {
        setWorking(false);
        status_->setText(e.message);
        Q_EMIT updated();
    };
    buildJobs_->start<std::string>(
        [dir, o](Progress &progress) { return DescriptorIndex::build(dir.toStdString(), o, &progress).name(); }, on);
}

void SearchPanel::drawQuery()
{
    const InputResult *in = workspace_->input();
    if (!in) {
        query_->setText(tr("No input"));
        return;
    }
    QImage img = in->seen.convertToFormat(QImage::Format_RGB32)
                     .scaled(query_->size() - QSize(8, 8), Qt::KeepAspectRatio,
                             in->seen.width() < 96 ? Qt::FastTransformation : Qt::SmoothTransformation);
    if (!region_.isEmpty()) {
        QPainter p(&img);
        p.setPen(QPen(QColor(255, 200, 0), 2));
        const double s = static_cast<double>(img.width()) / in->seen.width();
        p.drawRect(QRectF(region_.x() * s, region_.y() * s, region_.width() * s, region_.height() * s));
    }
    query_->setPixmap(QPixmap::fromImage(img));
}

bool SearchPanel::eventFilter(QObject *watched, QEvent *event)
{
    const InputResult *in = workspace_->input();
    if (watched != query_ || !in || query_->pixmap().isNull())
        return QWidget::eventFilter(watched, event);
    const QRect shown = QStyle::alignedRect(Qt::LeftToRight, Qt::AlignCenter, query_->pixmap().size(), query_->rect());
    auto toImage = [&](QPoint p) {
        const double s = static_cast<double>(in->seen.width()) / shown.width();
        return QPoint(std::clamp(static_cast<int>((p.x() - shown.left()) * s), 0, in->seen.width()),
                      std::clamp(static_cast<int>((p.y() - shown.top()) * s), 0, in->seen.height()));
    };
    if (event->type() == QEvent::MouseButtonPress) {
        dragStart_ = toImage(static_cast<QMouseEvent *>(event)->position().toPoint());
        return true;
    }
    if (event->type() == QEvent::MouseButtonRelease) {
        const QRect r = QRect(dragStart_, toImage(static_cast<QMouseEvent *>(event)->position().toPoint())).normalized();
        region_ = r.width() >= 4 && r.height() >= 4 ? r : QRect();
        drawQuery();
        search(region_);
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

void SearchPanel::search(QRect region)
{
    const InputResult *in = workspace_->input();
    auto model = workspace_->model();
    auto dataset = workspace_->dataset();
    auto index = open_;
    auto describer = indexModel_ ? indexModel_ : model;
    const torch::Tensor stored = stored_;
    if (!in || !model || !dataset || !index || !in->tensor.defined())
        return;
    // The query is the input as the workspace's model preprocessed it: only an index whose model takes the same
    // input (an adapted descriptor of this model) can describe it.
    const InputSpec &a = model->input(), &b = describer->input();
    if (a.width != b.width || a.height != b.height || a.channels != b.channels || a.mean != b.mean ||
        a.std != b.std || a.range != b.range || a.resize != b.resize || a.resizeTo != b.resizeTo ||
        a.order != b.order) {
        status_->setText(tr("The index '%1' was made by another model with other input settings (%2); open that "
                            "model to search it.")
                             .arg(QString::fromStdString(index->name()), QString::fromStdString(index->modelPath())));
        return;
    }
    region_ = region;
    torch::Tensor input = in->tensor;
    std::int64_t self = -1;
    if (region.isEmpty()) {
        const int hash = in->name.lastIndexOf('#');
        bool ok = false;
        const qint64 i = hash >= 0 ? in->name.mid(hash + 1).toLongLong(&ok) : -1;
        if (ok && i >= 0 && i < dataset->size() && QString::fromStdString(dataset->name(i)) == in->name)
            self = i;
    }
    const int k = k_->value();
    const QString regionText = region.isEmpty() ? QString()
                                                : tr(" (region %1,%2 %3×%4)")
                                                      .arg(region.x())
                                                      .arg(region.y())
                                                      .arg(region.width())
                                                      .arg(region.height());
    searchJobs_->run<Found>(
        [=]() {
            torch::Tensor x = input;
            if (!region.isEmpty()) { // the region, resized to the model's input
                x = x.narrow(2, region.y(), region.height()).narrow(3, region.x(), region.width());
                x = torch::upsample_bilinear2d(x, {input.size(2), input.size(3)}, false);
            }
            Found f;
            f.query = index->rawFeatures(*describer, x)[0];
            f.hits = index->search(f.query.unsqueeze(0), k, self).at(0);
            const Preprocessor pre(model->input());
            std::vector<torch::Tensor> tiles;
            std::vector<std::int64_t> rows;
            for (const auto &h : f.hits) {
                const bool added = h.image >= DescriptorIndex::firstAddedId(); // a file added to the index
                const std::string name = added ? index->addedPath(h.image) : dataset->name(h.image);
                tiles.push_back(Preprocessor::rgb(
                    pre.fit(added ? ImageReference::load(name).image : dataset->image(h.image))));
                const int label = added ? -1 : dataset->label(h.image);
                f.tiles.captions.push_back(QString("%1 · %2")
                                               .arg(static_cast<double>(h.distance), 0, 'f', 3)
                                               .arg(label >= 0 ? QString::fromStdString(model->label(label))
                                                               : shortName(name))
                                               .toStdString());
                rows.push_back(!added && h.image < stored.size(0) ? h.image : -1);
            }
            if (tiles.empty())
                throw DataError("the index returned nothing");
            f.stored = torch::zeros({static_cast<std::int64_t>(rows.size()), stored.size(1)});
            for (size_t i = 0; i < rows.size(); ++i)
                if (rows[i] >= 0) // added files: no stored features, no channel story
                    f.stored[static_cast<std::int64_t>(i)].copy_(stored[rows[i]]);
            f.tiles.kind = TileValues::Color;
            f.tiles.values = torch::stack(tiles);
            return f;
        },
        [this, regionText](Found &f) {
            found_ = std::make_shared<Found>(std::move(f));
            results_->setTiles(found_->tiles);
            int same = 0;
            const InputResult *now = workspace_->input();
            for (const auto &c : found_->tiles.captions)
                same += now && !now->predictions.empty() &&
                                c.find(now->predictions.front().label) != std::string::npos
                            ? 1
                            : 0;
            status_->setText(tr("%1 nearest of %2%3 in index %4 · %5 share the input's predicted class")
                                 .arg(found_->hits.size())
                                 .arg(now ? now->name : QString())
                                 .arg(regionText)
                                 .arg(QString::fromStdString(open_ ? open_->name() : ""))
                                 .arg(same));
            showWhy(0);
            Q_EMIT updated();
        },
        [this](const QString &message) {
            status_->setText(message);
            Q_EMIT updated();
        });
}

void SearchPanel::showWhy(int result)
{
    why_->clear();
    selected_ = result;
    if (!found_ || !open_ || result < 0 || result >= static_cast<int>(found_->hits.size()))
        return;
    const auto contributions = open_->whySimilar(found_->query, found_->stored[result], 10);
    if (contributions.empty()) {
        whyTitle_->setText(tr("<b>Why similar</b>: channel contributions need a pooled conv descriptor (spoc, mac)."));
        return;
    }
    whyTitle_->setText(tr("<b>Why similar</b> to result %1 (%2): the channels of %3 that contribute most")
                           .arg(result + 1)
                           .arg(QString::fromStdString(found_->tiles.captions[static_cast<size_t>(result)]))
                           .arg(QString::fromStdString(open_->layer())));
    for (const auto &c : contributions) {
        auto *item = new QListWidgetItem(tr("channel %1 — %2%").arg(c.channel).arg(100.0 * c.share, 0, 'f', 1));
        item->setData(Qt::UserRole, c.channel);
        why_->addItem(item);
    }
}

void SearchPanel::evaluate()
{
    const QString dir = project();
    if (dir.isEmpty())
        return;
    setWorking(true);
    status_->setText(tr("Evaluating every layer × descriptor × PCA size…"));
    using Rows = std::vector<RetrievalEvaluator::Row>;
    JobHandlers<Rows> on;
    on.progress = [this](std::int64_t done, std::int64_t total) {
        progress_->setRange(0, static_cast<int>(total));
        progress_->setValue(static_cast<int>(done));
    };
    on.done = [this](Rows &rows) {
        setWorking(false);
        showEvaluation(rows);
        status_->setText(tr("Evaluated %1 descriptors on 1,000 queries each").arg(rows.size()));
        Q_EMIT updated();
    };
    on.cancelled = [this] {
        setWorking(false);
        status_->setText(tr("Evaluation stopped."));
        Q_EMIT updated();
    };
    on.failed = [this](const JobError &e) {
        setWorking(false);
        status_->setText(e.message);
        Q_EMIT updated();
    };
    evalJobs_->start<Rows>(
        [dir](Progress &progress) {
            return RetrievalEvaluator::compare(dir.toStdString(), {}, RetrievalEvaluator::Options{}, &progress);
        },
        on);
}

AdaptPanel *SearchPanel::adaptWindow() const { return adaptWindow_.data(); }

void SearchPanel::adapt()
{
    const QString dir = project();
    if (dir.isEmpty() || !workspace_->model()) {
        status_->setText(tr("Open a model and a scanned, labelled dataset to adapt its descriptors."));
        return;
    }
    if (!adaptWindow_) {
        adaptWindow_ = new AdaptPanel(workspace_, dir, this);
        adaptWindow_->setWindowFlag(Qt::Window);
        adaptWindow_->setAttribute(Qt::WA_DeleteOnClose);
        connect(adaptWindow_, &AdaptPanel::adapted, this, [this](const QString &name) {
            refreshIndexes();
            const int i = index_->findText(name);
            if (i >= 0)
                index_->setCurrentIndex(i);
        });
    }
    adaptWindow_->show();
    adaptWindow_->raise();
}

void SearchPanel::classify()
{
    const QString dir = project();
    if (dir.isEmpty())
        return;
    setWorking(true);
    lowerTabs_->setCurrentWidget(probeView_);
    status_->setText(tr("Training a linear classifier on every layer with stored features…"));
    struct Probed {
        std::vector<LayerProbe::Row> rows;
        QString split;
    };
    JobHandlers<Probed> on;
    on.progress = [this](std::int64_t done, std::int64_t total) {
        progress_->setRange(0, static_cast<int>(total));
        progress_->setValue(static_cast<int>(done));
    };
    on.done = [this](Probed &probed) {
        setWorking(false);
        probeView_->setRows(probed.rows, probed.split);
        int failed = 0;
        for (const auto &r : probed.rows)
            failed += r.error.empty() ? 0 : 1;
        status_->setText(failed == 0 ? tr("Trained %1 linear probes").arg(probed.rows.size())
                                     : tr("Trained %1 linear probes; %2 could not be trained (see the table)")
                                           .arg(probed.rows.size() - static_cast<size_t>(failed))
                                           .arg(failed));
        Q_EMIT updated();
    };
    on.cancelled = [this] {
        setWorking(false);
        status_->setText(tr("Probes stopped."));
        Q_EMIT updated();
    };
    on.failed = [this](const JobError &e) {
        setWorking(false);
        status_->setText(e.message);
        Q_EMIT updated();
    };
    probeJobs_->start<Probed>(
        [dir](Progress &progress) {
            LayerProbe probe(dir.toStdString(), LayerProbe::Options{});
            while (!probe.run(&progress)) {
            }
            return Probed{probe.rows(), QString::fromStdString(probe.splitDescription())};
        },
        on);
}

void SearchPanel::showEvaluation(const std::vector<RetrievalEvaluator::Row> &rows)
{
    table_->setRowCount(static_cast<int>(rows.size()));
    auto model = workspace_->model();
    // A block's output (the default "last map" of a Sequential) is named with what it is, not only the block.
    auto layerText = [&model](const std::string &path) {
        QString text = QString::fromStdString(path);
        if (!model)
            return text;
        try {
            const LayerInfo &l = model->layer(path);
            if (l.kind == LayerKind::Block) {
                QStringList dims;
                for (size_t d = 1; d < l.outputShape.size(); ++d)
                    dims << QString::number(l.outputShape[d]);
                text += tr(" (block output %1)").arg(dims.join(QChar(0xd7)));
            } else if (!l.displayName.empty()) {
                text += " (" + QString::fromStdString(l.displayName) + ")";
            }
        } catch (const Error &) {
        }
        return text;
    };
    auto *map = new QBarSet(tr("mAP"));
    auto *p10 = new QBarSet(tr("precision@10"));
    QStringList categories;
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
        const auto &r = rows[static_cast<size_t>(i)];
        const QStringList cells{layerText(r.layer), QString::fromStdString(r.descriptor),
                                r.pca > 0 ? QString::number(r.pca) : "-", QString::number(r.dims),
                                QString::number(r.result.map, 'f', 4),
                                QString::number(r.result.precisionAtK, 'f', 4)};
        for (int c = 0; c < cells.size(); ++c)
            table_->setItem(i, c, new QTableWidgetItem(cells[c]));
        *map << r.result.map;
        *p10 << r.result.precisionAtK;
        categories << QString("%1 %2 %3").arg(QString::fromStdString(r.layer).section('.', -1), cells[1], cells[2]);
    }
    auto *series = new QHorizontalBarSeries;
    series->append(map);
    series->append(p10);
    auto *chart = new QChart;
    chart->addSeries(series);
    chart->setTitle(tr("Which layer describes best (classes as relevance)"));
    auto *x = new QBarCategoryAxis; // one row per layer × descriptor × PCA size
    x->append(categories);
    QFont small = x->labelsFont();
    small.setPixelSize(9);
    x->setLabelsFont(small);
    auto *y = new QValueAxis;
    y->setRange(0, 1);
    chart->addAxis(x, Qt::AlignLeft);
    chart->addAxis(y, Qt::AlignBottom);
    series->attachAxis(x);
    series->attachAxis(y);
    chart->setTheme(QChart::ChartThemeDark);
    chart_->setMinimumHeight(std::max(150, 90 + 18 * static_cast<int>(categories.size())));
    QChart *old = chart_->chart();
    chart_->setChart(chart);
    delete old;
}

} // namespace convscope
