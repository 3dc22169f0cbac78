#include "panels/EvolutionPanel.h"

#include "evolution/FeatureEvolution.h"
#include "jobs/JobLane.h"
#include "render/StabilityChartRenderer.h"
#include "render/TileGridRenderer.h"
#include "widgets/TileGridView.h"

#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

namespace convscope {

namespace {

constexpr int kFigureUnits = 8;

std::vector<std::string> labelsOf(const CheckpointSeries &s)
{
    std::vector<std::string> labels;
    for (const auto &c : s.checkpoints())
        labels.push_back(c.label);
    return labels;
}

} // namespace

EvolutionPanel::EvolutionPanel(QWidget *parent)
    : QWidget(parent), jobs_(new JobLane(this)), figureJobs_(new JobLane(this)), checkpoints_(new QLabel),
      datasetLabel_(new QLabel), status_(new QLabel), chart_(new QLabel), limit_(new QSpinBox),
      run_(new QPushButton(tr("Scan Checkpoints"))), stop_(new QPushButton(tr("Stop"))),
      exportChart_(new QPushButton(tr("Export…"))), progress_(new QProgressBar), chartKind_(new QComboBox),
      layer_(new QComboBox), figure_(new TileGridView)
{
    setWindowTitle(tr("Feature Evolution — Convscope"));
    checkpoints_->setWordWrap(true);
    datasetLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    status_->setWordWrap(true);
    limit_->setRange(0, 10'000'000);
    limit_->setSpecialValueText(tr("all"));
    limit_->setSuffix(tr(" images"));
    limit_->setToolTip(tr("Images of the dataset each checkpoint is scanned on (all = the whole dataset; the Units "
                          "tab's slider shows scans of the whole dataset)"));
    run_->setDefault(true);
    run_->setToolTip(tr("Scan every checkpoint against the dataset (stored scans are reused), then compare them"));
    stop_->setToolTip(tr("Stop; finished images are kept and the scans resume later"));
    exportChart_->setToolTip(tr("Save the chart or the figure as PNG or SVG"));
    progress_->setMaximumWidth(240);
    progress_->setFormat(tr("%p%"));
    chartKind_->addItems({tr("Kept from one checkpoint to the next"), tr("Shared with the last checkpoint")});
    chartKind_->setToolTip(tr("Per layer, the mean share of each unit's top images (distinct images) that two "
                              "checkpoints have in common"));
    layer_->setToolTip(tr("Layer of the figure: its 8 strongest units at the last checkpoint, top patches at every "
                          "checkpoint"));
    layer_->setMinimumContentsLength(16);
    chart_->setAlignment(Qt::AlignCenter);
    chart_->setMinimumSize(320, 200);
    chart_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
    chart_->installEventFilter(this); // redrawn at its size whenever the splitter or the window resizes it
    figure_->setFitWidth(150); // each cell about 150 pixels; the rows scroll
    figure_->setKeepColumns(true); // one column per checkpoint
    figure_->setGap(8);            // each cell is a mosaic with gaps of its own
    figure_->clear(tr("Scan the checkpoints to see how units change"));

    auto *top = new QHBoxLayout;
    top->addWidget(run_);
    top->addWidget(stop_);
    top->addWidget(progress_);
    top->addWidget(new QLabel(tr("Scan")));
    top->addWidget(limit_);
    top->addStretch(1);
    top->addWidget(exportChart_);
    auto *chartRow = new QHBoxLayout;
    chartRow->addWidget(new QLabel(tr("<b>Stability</b>")));
    chartRow->addWidget(chartKind_);
    chartRow->addStretch(1);
    chartRow->addWidget(new QLabel(tr("<b>Figure</b> layer")));
    chartRow->addWidget(layer_);
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(chart_);
    split->addWidget(figure_);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setSizes({300, 460});
    split->setChildrenCollapsible(false);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(checkpoints_);
    layout->addWidget(datasetLabel_);
    layout->addLayout(top);
    layout->addWidget(status_);
    layout->addLayout(chartRow);
    layout->addWidget(split, 1);

    connect(run_, &QPushButton::clicked, this, &EvolutionPanel::run);
    connect(stop_, &QPushButton::clicked, this, &EvolutionPanel::stop);
    connect(chartKind_, qOverload<int>(&QComboBox::currentIndexChanged), this, &EvolutionPanel::showChart);
    connect(layer_, qOverload<int>(&QComboBox::currentIndexChanged), this, &EvolutionPanel::showFigure);
    connect(exportChart_, &QPushButton::clicked, this, &EvolutionPanel::exportChart);
    setWorking(false);
    resize(1000, 860);
}

EvolutionPanel::~EvolutionPanel() = default;

void EvolutionPanel::setCheckpoints(const CheckpointSeries &series)
{
    series_ = series;
    QStringList names;
    for (const auto &c : series_.checkpoints())
        names << QString::fromStdString(c.label);
    checkpoints_->setText(series_.size() == 0 ? tr("No checkpoints: File ▸ Open Checkpoints… chooses them")
                                              : tr("<b>%1 checkpoints</b>: %2").arg(series_.size()).arg(names.join(", ")));
    setWorking(false);
}

void EvolutionPanel::setDataset(const QString &dataset)
{
    dataset_ = dataset;
    datasetLabel_->setText(dataset.isEmpty() ? tr("No dataset open") : tr("Dataset: %1").arg(dataset));
    setWorking(false);
}

void EvolutionPanel::setImageLimit(int images) { limit_->setValue(images); }

bool EvolutionPanel::running() const { return jobs_->active(); }

QString EvolutionPanel::status() const { return status_->text(); }

void EvolutionPanel::setWorking(bool working)
{
    run_->setEnabled(!working && series_.size() >= 2 && !dataset_.isEmpty());
    stop_->setEnabled(working);
    progress_->setVisible(working);
    exportChart_->setEnabled(!working && evolution_ != nullptr);
    chartKind_->setEnabled(evolution_ != nullptr);
    layer_->setEnabled(!working && evolution_ != nullptr);
}

void EvolutionPanel::stop() { jobs_->cancel(); }

void EvolutionPanel::run()
{
    if (series_.size() < 2 || dataset_.isEmpty())
        return;
    FeatureEvolution::Options o;
    o.scan.limit = limit_->value() > 0 ? limit_->value() : -1;
    const CheckpointSeries series = series_;
    const std::string dataset = dataset_.toStdString();
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    status_->setText(tr("Scanning %1 checkpoints…").arg(series.size()));
    setWorking(true);
    run_->setEnabled(false);
    JobHandlers<std::shared_ptr<const FeatureEvolution>> on;
    on.progress = [this](std::int64_t done, std::int64_t total) {
        progress_->setValue(total > 0 ? static_cast<int>(1000 * done / total) : 0);
    };
    on.done = [this](std::shared_ptr<const FeatureEvolution> &e) {
        evolution_ = e;
        setWorking(false);
        const auto &stability = e->stability();
        status_->setText(tr("%1 layers compared over %2 checkpoints; scans are in %3")
                             .arg(stability.size())
                             .arg(e->series().size())
                             .arg(QString::fromStdString(e->project())));
        const QSignalBlocker block(layer_);
        const QString previous = layer_->currentText();
        layer_->clear();
        for (const auto &l : stability)
            layer_->addItem(QString::fromStdString(l.layer));
        const int keep = layer_->findText(previous);
        layer_->setCurrentIndex(keep >= 0 ? keep : 0);
        setWorking(false);
        showChart();
        showFigure();
        Q_EMIT finished();
    };
    on.cancelled = [this] {
        setWorking(false);
        status_->setText(tr("Stopped; finished images are kept and Scan Checkpoints resumes."));
        Q_EMIT finished();
    };
    on.failed = [this](const JobError &e) {
        setWorking(false);
        status_->setText(tr("Could not compare the checkpoints: %1").arg(e.message));
        Q_EMIT finished();
    };
    jobs_->start<std::shared_ptr<const FeatureEvolution>>(
        [series, dataset, o](JobContext &job) {
            auto e = std::make_shared<FeatureEvolution>(series, dataset, o);
            while (!e->run(&job)) {
            }
            return std::shared_ptr<const FeatureEvolution>(e);
        },
        on);
}

void EvolutionPanel::showChart()
{
    if (!evolution_)
        return;
    StabilityChartRenderer::Options o;
    o.toFinal = chartKind_->currentIndex() == 1;
    o.width = std::max(480, chart_->width());
    o.height = std::max(240, chart_->height());
    chartImage_ = StabilityChartRenderer(o).render(labelsOf(evolution_->series()), evolution_->stability());
    chart_->setPixmap(QPixmap::fromImage(chartImage_));
}

bool EvolutionPanel::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == chart_ && event->type() == QEvent::Resize)
        showChart();
    return QWidget::eventFilter(watched, event);
}

void EvolutionPanel::showLayer(const QString &path)
{
    const int i = layer_->findText(path);
    if (i >= 0)
        layer_->setCurrentIndex(i);
}

void EvolutionPanel::showFigure()
{
    if (!evolution_ || layer_->currentIndex() < 0)
        return;
    auto e = evolution_;
    const std::string layer = layer_->currentText().toStdString();
    figure_->clear(tr("Cropping patches…"));
    JobHandlers<TileSet> on; // a newer figure (another layer) stops this one between checkpoints
    on.done = [this](TileSet &set) {
        figure_->setTiles(set);
        Q_EMIT figureShown();
    };
    on.failed = [this](const JobError &error) { figure_->clear(error.message); };
    figureJobs_->start<TileSet>(
        [e, layer](JobContext &job) {
            return e->figure(layer, e->strongestUnits(layer, kFigureUnits), true, 64, &job);
        },
        on);
}

void EvolutionPanel::exportChart()
{
    if (!evolution_)
        return;
    QString filter;
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export chart or figure"), QStringLiteral("evolution-%1.png").arg(layer_->currentText()),
        tr("Stability chart, PNG (*.png);;Stability chart, SVG (*.svg);;Figure, PNG (*.png);;Figure, SVG (*.svg)"),
        &filter);
    if (path.isEmpty())
        return;
    try {
        if (filter.startsWith(tr("Figure"))) {
            TileGridRenderer::Options o;
            o.gap = 8; // each cell is a mosaic with gaps of its own
            TileGridRenderer(o).write(figure_->tiles(), path);
        } else {
            StabilityChartRenderer::Options o;
            o.toFinal = chartKind_->currentIndex() == 1;
            StabilityChartRenderer(o).write(labelsOf(evolution_->series()), evolution_->stability(), path);
        }
        status_->setText(tr("Wrote %1").arg(path));
    } catch (const std::exception &e) {
        status_->setText(tr("Could not export: %1").arg(QString::fromUtf8(e.what())));
    }
}

} // namespace convscope
