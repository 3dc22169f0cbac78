#include "panels/AdaptPanel.h"

#include "data/ImageSource.h"
#include "jobs/Workspace.h"
#include "model/Model.h"
#include "search/DescriptorIndex.h"
#include "search/RetrievalExamples.h"
#include "widgets/TileGridView.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <cmath>

namespace convscope {

namespace {

/// What a finished (or stopped) training hands to the GUI thread.
struct Trained {
    std::vector<DescriptorAdaptation::Row> rows;
    TileSet examples;
    QString split, name;
};

} // namespace

AdaptPanel::AdaptPanel(Workspace *workspace, QString project, QWidget *parent)
    : QWidget(parent), workspace_(workspace), project_(std::move(project)), jobs_(new JobLane(this)),
      layer_(new QComboBox), descriptor_(new QComboBox), loss_(new QComboBox), mining_(new QComboBox),
      split_(new QComboBox), margin_(new QDoubleSpinBox), fraction_(new QDoubleSpinBox), epochs_(new QSpinBox),
      dims_(new QSpinBox), tune_(new QSpinBox), classes_(new QLineEdit), name_(new QLineEdit), train_(new QPushButton(tr("Train"))),
      stop_(new QPushButton(tr("Stop"))), progress_(new QProgressBar), status_(new QLabel),
      chart_(new QChartView), table_(new QTableWidget(0, 4)), examples_(new TileGridView)
{
    const DescriptorAdaptation::Options defaults;
    setWindowTitle(tr("Adapt the descriptor — Convscope"));
    descriptor_->addItems({tr("default"), "fc", "spoc", "mac"});
    descriptor_->setToolTip(tr("fc: a fully connected output; spoc: sum-pooled maps; mac: max-pooled maps"));
    loss_->addItems({"contrastive", "triplet"});
    loss_->setToolTip(tr("contrastive: ½‖a−p‖² + ½max(0, τ−‖a−n‖)²; triplet: max(0, ‖a−p‖² − ‖a−n‖² + m)"));
    mining_->addItems({"hard", "semihard", "random"});
    mining_->setToolTip(tr("Which negative each anchor–positive pair of a batch is trained against"));
    margin_->setRange(0, 4);
    margin_->setDecimals(2);
    margin_->setSingleStep(0.05);
    margin_->setSpecialValueText(tr("default"));
    margin_->setToolTip(tr("0 = the loss's default (0.7 contrastive, 0.2 triplet)"));
    epochs_->setRange(1, 1000);
    epochs_->setValue(defaults.training.epochs);
    dims_->setRange(2, 4096);
    dims_->setValue(defaults.head.dims);
    tune_->setRange(0, 64);
    tune_->setSpecialValueText(tr("none (head only)"));
    tune_->setToolTip(tr("Also train the network's last N layers with weights up to the chosen layer, end to end "
                         "on the images (slower)"));
    split_->addItems({tr("unseen classes"), tr("ordinary (a share of every class)")});
    split_->setToolTip(tr("Unseen classes: train on the classes listed, test on all the others"));
    classes_->setText("0-4");
    classes_->setToolTip(tr("Classes to train on, e.g. 0-4 or 0,2,5-7; the test uses the others"));
    fraction_->setRange(0.05, 0.95);
    fraction_->setSingleStep(0.05);
    fraction_->setValue(defaults.split.trainFraction);
    fraction_->setToolTip(tr("Share of every class's images that trains; the rest tests"));
    progress_->hide();
    stop_->setEnabled(false);
    status_->setWordWrap(true);
    status_->setText(tr("Choose a layer and a split, then Train. Each epoch is scored on the held-out test "
                        "images; Stop keeps the finished epochs and Train resumes them."));
    table_->setHorizontalHeaderLabels({tr("Descriptor"), tr("Dims"), tr("mAP"), tr("P@10")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    chart_->setMinimumHeight(220);
    chart_->setRenderHint(QPainter::Antialiasing);
    examples_->clear(tr("The before/after results for the same test queries appear here after training."));
    examples_->setFitWidth(56);
    examples_->setKeepColumns(true);
    layOut();
    fillLayers();
    showEpochs();
    auto syncSplit = [this] {
        classes_->setEnabled(split_->currentIndex() == 0);
        fraction_->setEnabled(split_->currentIndex() == 1);
    };
    syncSplit();
    connect(split_, qOverload<int>(&QComboBox::currentIndexChanged), this, syncSplit);
    connect(train_, &QPushButton::clicked, this, &AdaptPanel::train);
    connect(stop_, &QPushButton::clicked, this, &AdaptPanel::stop);
    connect(layer_, &QComboBox::currentTextChanged, this,
            [this](const QString &layer) { name_->setText(QString(layer).replace('/', '_') + "-adapted"); });
    name_->setText(layer_->currentText() + "-adapted");
    resize(1280, 820);
}

AdaptPanel::~AdaptPanel() = default; // the lane stops the training at its next step and waits for it

void AdaptPanel::layOut()
{
    auto *form = new QFormLayout;
    form->addRow(tr("Layer"), layer_);
    form->addRow(tr("Descriptor"), descriptor_);
    form->addRow(tr("Loss"), loss_);
    form->addRow(tr("Negatives"), mining_);
    form->addRow(tr("Margin"), margin_);
    form->addRow(tr("Epochs"), epochs_);
    form->addRow(tr("Dimensions"), dims_);
    form->addRow(tr("Fine-tune layers"), tune_);
    form->addRow(tr("Split"), split_);
    form->addRow(tr("Train classes"), classes_);
    form->addRow(tr("Train share"), fraction_);
    form->addRow(tr("Name"), name_);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(train_);
    buttons->addWidget(stop_);
    auto *left = new QVBoxLayout;
    left->addLayout(form);
    left->addLayout(buttons);
    left->addWidget(progress_);
    left->addWidget(status_);
    left->addStretch(1);
    auto *leftWidget = new QWidget;
    leftWidget->setLayout(left);
    leftWidget->setMaximumWidth(360);
    auto *results = new QSplitter;
    results->addWidget(chart_);
    results->addWidget(table_);
    results->setSizes({440, 500});
    auto *right = new QSplitter(Qt::Vertical);
    right->addWidget(results);
    right->addWidget(examples_);
    right->setSizes({300, 500});
    auto *layout = new QHBoxLayout(this);
    layout->addWidget(leftWidget);
    layout->addWidget(right, 1);
}

void AdaptPanel::fillLayers()
{
    auto model = workspace_->model();
    if (!model)
        return;
    int preferred = -1;
    for (int i : DescriptorIndex::layerChoices(*model)) {
        const LayerInfo &l = model->layers()[static_cast<size_t>(i)];
        const bool map = l.outputShape.size() == 4;
        layer_->addItem(QString::fromStdString(l.path));
        if (map)
            preferred = layer_->count() - 1; // the last map: the most to gain (fc layers know the classes already)
    }
    if (preferred >= 0)
        layer_->setCurrentIndex(preferred);
}

DescriptorAdaptation::Options AdaptPanel::options() const
{
    DescriptorAdaptation::Options o;
    o.name = name_->text().trimmed().toStdString();
    o.layer = layer_->currentText().toStdString();
    if (descriptor_->currentIndex() > 0)
        o.pooling = parseDescriptor(descriptor_->currentText().toStdString());
    o.training.loss.kind = MetricLoss::parseKind(loss_->currentText().toStdString());
    o.training.loss.mining = MetricLoss::parseMining(mining_->currentText().toStdString());
    o.training.loss.margin = static_cast<float>(margin_->value());
    o.training.epochs = epochs_->value();
    o.head.dims = dims_->value();
    o.fineTuneBlocks = tune_->value();
    if (split_->currentIndex() == 0)
        o.split.trainClasses = AdaptationSplit::parseClasses(classes_->text().toStdString());
    else
        o.split.trainFraction = fraction_->value();
    o.resume = QDir(project_ + "/adapt-" + name_->text().trimmed()).exists("options.json");
    return o;
}

void AdaptPanel::setWorking(bool working)
{
    train_->setEnabled(!working);
    stop_->setEnabled(working);
    progress_->setVisible(working);
    for (QWidget *w : std::initializer_list<QWidget *>{layer_, descriptor_, loss_, mining_, margin_, epochs_, dims_,
                                                         tune_, split_, classes_, fraction_, name_})
        w->setEnabled(!working);
    if (!working) {
        classes_->setEnabled(split_->currentIndex() == 0);
        fraction_->setEnabled(split_->currentIndex() == 1);
    }
}

void AdaptPanel::train()
{
    DescriptorAdaptation::Options o;
    try {
        o = options();
    } catch (const Error &e) {
        status_->setText(QString::fromUtf8(e.what()));
        return;
    }
    auto model = workspace_->model();
    const std::vector<std::string> classNames = model ? model->sidecar().labels : std::vector<std::string>();
    const std::string project = project_.toStdString();
    epochs_done_.clear();
    beforeMap_ = 0;
    showEpochs();
    table_->setRowCount(0);
    setWorking(true);
    status_->setText(o.resume ? tr("Resuming '%1'…").arg(QString::fromStdString(o.name))
                              : tr("Reading the features and scoring the original descriptor…"));
    JobHandlers<Trained> on;
    on.progress = [this](std::int64_t done, std::int64_t total) {
        progress_->setRange(0, static_cast<int>(std::max<std::int64_t>(total, 1)));
        progress_->setValue(static_cast<int>(done));
    };
    on.done = [this](Trained &t) {
        setWorking(false);
        showTable(t.rows);
        examples_->setTiles(std::move(t.examples));
        status_->setText(tr("Adapted: %1. The index '%2' is in the Search tab's list.").arg(t.split, t.name));
        Q_EMIT adapted(t.name);
        Q_EMIT updated();
    };
    on.cancelled = [this] {
        setWorking(false);
        status_->setText(tr("Stopped after %1 finished epochs (saved). Train resumes them.")
                             .arg(epochs_done_.size()));
        Q_EMIT updated();
    };
    on.failed = [this](const JobError &e) {
        setWorking(false);
        status_->setText(e.message);
        Q_EMIT updated();
    };
    jobs_->start<Trained>(
        [this, project, o, classNames](JobContext &job) {
            DescriptorAdaptation a(project, o, &job);
            const auto history = a.history();
            const double before = a.table()[1].result.map;
            const QString split = QString::fromStdString(a.split().describe());
            job.post([this, history, before, split] {
                beforeMap_ = before;
                epochs_done_ = history;
                showEpochs();
                status_->setText(split);
            });
            while (a.finishedEpochs() < a.epochs()) {
                a.run(&job);
                const auto record = a.history().back();
                job.post([this, record] {
                    epochs_done_.push_back(record);
                    showEpochs();
                    Q_EMIT updated();
                });
            }
            Trained t;
            t.rows = a.finish(&job);
            const auto examples = RetrievalExamples::find(a.originalDescriptors(), a.adaptedDescriptors(),
                                                          a.split().testLabels(), [] {
                                                              RetrievalExamples::Options eo;
                                                              eo.k = 6; // tiles large enough to see
                                                              return eo;
                                                          }());
            auto source = ImageSource::open(a.dataset());
            auto adapted = Model::load(a.modelPath());
            // Captions name the dataset's classes (its folders), else the model's labels.
            t.examples = RetrievalExamples::grid(examples, *source, adapted->input(),
                                                 source->classNames().empty() ? classNames : source->classNames());
            t.split = split;
            t.name = QString::fromStdString(o.name);
            return t;
        },
        on);
}

void AdaptPanel::stop() { jobs_->cancel(); }

void AdaptPanel::showEpochs()
{
    auto *chart = new QChart;
    chart->setTheme(QChart::ChartThemeDark);
    chart->setTitle(tr("Training loss and test mAP per epoch"));
    auto *loss = new QLineSeries;
    loss->setName(tr("loss"));
    auto *map = new QLineSeries;
    map->setName(tr("test mAP (adapted)"));
    auto *before = new QLineSeries;
    before->setName(tr("test mAP (original)"));
    double maxLoss = 0, lo = beforeMap_ > 0 ? beforeMap_ : 1, hi = beforeMap_;
    map->append(0, beforeMap_);
    for (const auto &e : epochs_done_) {
        if (std::isfinite(e.loss)) {
            loss->append(e.epoch, e.loss);
            maxLoss = std::max(maxLoss, e.loss);
        }
        map->append(e.epoch, e.test.map);
        lo = std::min(lo, e.test.map);
        hi = std::max(hi, e.test.map);
    }
    const int last = std::max(epochs_->value(), epochs_done_.empty() ? 1 : epochs_done_.back().epoch);
    before->append(0, beforeMap_);
    before->append(last, beforeMap_);
    QPen dashed = before->pen();
    dashed.setStyle(Qt::DashLine);
    dashed.setColor(QColor(200, 200, 200));
    dashed.setWidth(2);
    before->setPen(dashed);
    for (auto *s : {loss, map, before})
        chart->addSeries(s);
    auto *x = new QValueAxis;
    x->setRange(0, last);
    x->setLabelFormat("%d");
    x->setTickCount(last <= 10 ? last + 1 : 11);
    if (last > 10)
        x->applyNiceNumbers();
    x->setTitleText(tr("epoch"));
    auto *yLoss = new QValueAxis;
    yLoss->setRange(0, maxLoss > 0 ? maxLoss * 1.1 : 1);
    yLoss->setTitleText(tr("loss"));
    auto *yMap = new QValueAxis;
    const double pad = std::max(0.01, (hi - lo) * 0.15);
    yMap->setRange(std::max(0.0, lo - pad), std::min(1.0, hi + pad));
    yMap->setTitleText(tr("mAP"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(yLoss, Qt::AlignLeft);
    chart->addAxis(yMap, Qt::AlignRight);
    loss->attachAxis(x);
    loss->attachAxis(yLoss);
    for (auto *s : {map, before}) {
        s->attachAxis(x);
        s->attachAxis(yMap);
    }
    if (beforeMap_ <= 0) { // nothing scored yet
        map->clear();
        before->clear();
    }
    QChart *old = chart_->chart();
    chart_->setChart(chart);
    delete old;
}

void AdaptPanel::showTable(const std::vector<DescriptorAdaptation::Row> &rows)
{
    table_->setRowCount(static_cast<int>(rows.size()));
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
        const auto &r = rows[static_cast<size_t>(i)];
        table_->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(r.descriptor)));
        table_->setItem(i, 1, new QTableWidgetItem(QString::number(r.dims)));
        table_->setItem(i, 2, new QTableWidgetItem(QString::number(r.result.map, 'f', 4)));
        table_->setItem(i, 3, new QTableWidgetItem(QString::number(r.result.precisionAtK, 'f', 4)));
    }
}

} // namespace convscope
