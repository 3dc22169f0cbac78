#include "panels/ComparePanel.h"

#include "jobs/JobLane.h"
#include "widgets/AppStyle.h"
#include "model/LayerInfo.h"

#include <QChart>
#include <QChartView>
#include <QColor>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QCategoryAxis>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScatterSeries>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace convscope {

namespace {

enum Column { Name, Format, Params, Macs, Top1, Top5, Ms, PerSecond, Memory, Field, Depthwise, Pointwise, Full, Fc,
              Columns };

QString percent(double v) { return std::isfinite(v) ? QString::number(100 * v, 'f', 2) + " %" : QString(); }
QString share(double v) { return QString::number(100 * v, 'f', 1) + " %"; }
QString count(std::int64_t v) { return QString::fromStdString(humanCount(v)); }

QTableWidgetItem *item(const QString &text, double sortValue = NAN)
{
    auto *it = new QTableWidgetItem(text);
    if (std::isfinite(sortValue))
        it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return it;
}

bool modelFile(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    return suffix == "pt" || suffix == "pth" || suffix == "ptl" || suffix == "onnx" || suffix == "torchscript";
}

} // namespace

ComparePanel::ComparePanel(QWidget *parent)
    : QWidget(parent), jobs_(new JobLane(this)), datasetLabel_(new QLabel), limit_(new QSpinBox),
      add_(new QPushButton(tr("Add Models…"))), remove_(new QPushButton(tr("Remove"))),
      chooseDataset_(new QPushButton(tr("Dataset…"))), compare_(new QPushButton(tr("Compare"))),
      stop_(new QPushButton(tr("Stop"))), progress_(new QProgressBar), status_(new QLabel),
      table_(new QTableWidget(0, Columns)), chart_(new QChartView)
{
    setWindowTitle(tr("Compare Models — Convscope"));
    setAcceptDrops(true);
    limit_->setRange(0, 10'000'000);
    limit_->setValue(2000);
    limit_->setSpecialValueText(tr("all"));
    limit_->setSuffix(tr(" images"));
    limit_->setToolTip(tr("Images of the dataset each model is evaluated on (all = the whole dataset)"));
    compare_->setDefault(true);
    compare_->setToolTip(tr("Load, evaluate and time every model in the list on the dataset"));
    stop_->setToolTip(tr("Stop the comparison (rows already measured stay)"));
    progress_->setTextVisible(false);
    progress_->setMaximumWidth(200);
    datasetLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    status_->setWordWrap(true);
    status_->setText(tr("Add models (or drop model files here), choose a labelled dataset, then Compare."));

    table_->setHorizontalHeaderLabels({tr("Model"), tr("Format"), tr("Params"), tr("Mult-adds"), tr("Top-1"),
                                       tr("Top-5"), tr("ms/img (b1)"), tr("img/s (b32)"), tr("Peak MB (b1)"),
                                       tr("Last RF"), tr("Depthwise"), tr("Pointwise"), tr("Full conv"),
                                       tr("Fully conn.")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setToolTip(tr("Double-click a model to open it in the main window"));
    table_->horizontalHeader()->setStretchLastSection(true);
    chart_->setMinimumSize(360, 280);
    chart_->setRenderHint(QPainter::Antialiasing);
    AppStyle::clearChart(chart_);

    auto *top = new QHBoxLayout;
    top->addWidget(add_);
    top->addWidget(remove_);
    top->addSpacing(16);
    top->addWidget(new QLabel(tr("Dataset:")));
    top->addWidget(datasetLabel_, 1);
    top->addWidget(chooseDataset_);
    top->addWidget(limit_);
    top->addSpacing(16);
    top->addWidget(compare_);
    top->addWidget(stop_);
    top->addWidget(progress_);
    // The table above (all its columns across the window), the chart below.
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(table_);
    split->addWidget(chart_);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(split, 1);
    layout->addWidget(status_);

    connect(add_, &QPushButton::clicked, this, &ComparePanel::chooseModels);
    connect(remove_, &QPushButton::clicked, this, &ComparePanel::removeSelected);
    connect(chooseDataset_, &QPushButton::clicked, this, &ComparePanel::chooseDataset);
    connect(compare_, &QPushButton::clicked, this, &ComparePanel::compare);
    connect(stop_, &QPushButton::clicked, this, &ComparePanel::stop);
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (row >= 0 && row < paths_.size())
            Q_EMIT openModelRequested(paths_[row]);
    });
    setWorking(false);
    showRows();
    showChart();
    resize(1280, 800);
}

bool ComparePanel::running() const { return jobs_->active(); }
QString ComparePanel::status() const { return status_->text(); }

void ComparePanel::addModels(const QStringList &paths)
{
    bool added = false;
    for (const QString &p : paths) {
        const QString path = QFileInfo(p).absoluteFilePath();
        if (!p.isEmpty() && !paths_.contains(path)) {
            paths_ << path;
            added = true;
        }
    }
    if (added && !running()) {
        rows_.clear();
        showRows();
        showChart();
    }
    setWorking(running());
}

void ComparePanel::setDataset(const QString &dataset)
{
    dataset_ = dataset;
    datasetLabel_->setText(dataset.isEmpty() ? tr("(none)") : dataset);
    setWorking(running());
}

void ComparePanel::setImageLimit(int images) { limit_->setValue(images); }
void ComparePanel::setRounds(int rounds) { rounds_ = std::max(1, rounds); }

void ComparePanel::setWorking(bool working)
{
    compare_->setEnabled(!working && !paths_.isEmpty() && !dataset_.isEmpty());
    stop_->setEnabled(working);
    add_->setEnabled(!working);
    remove_->setEnabled(!working && !paths_.isEmpty());
    chooseDataset_->setEnabled(!working);
    limit_->setEnabled(!working);
    progress_->setVisible(working);
}

void ComparePanel::chooseModels()
{
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Add Models"), QString(), tr("Models (*.pt *.pth *.ptl *.onnx *.torchscript);;All files (*)"));
    addModels(files);
}

void ComparePanel::chooseDataset()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Labelled Dataset Folder"));
    if (!dir.isEmpty())
        setDataset(dir);
}

void ComparePanel::removeSelected()
{
    QList<int> rows;
    for (const auto &range : table_->selectedRanges())
        for (int r = range.topRow(); r <= range.bottomRow(); ++r)
            rows << r;
    std::sort(rows.begin(), rows.end(), std::greater<int>());
    for (int r : rows)
        if (r < paths_.size()) {
            paths_.removeAt(r);
            if (static_cast<size_t>(r) < rows_.size())
                rows_.erase(rows_.begin() + r);
        }
    showRows();
    showChart();
    setWorking(false);
}

void ComparePanel::dragEnterEvent(QDragEnterEvent *event)
{
    if (!running() && event->mimeData()->hasUrls())
        for (const QUrl &url : event->mimeData()->urls())
            if (url.isLocalFile() && modelFile(url.toLocalFile())) {
                event->acceptProposedAction();
                return;
            }
}

void ComparePanel::dropEvent(QDropEvent *event)
{
    QStringList files;
    for (const QUrl &url : event->mimeData()->urls())
        if (url.isLocalFile() && modelFile(url.toLocalFile()))
            files << url.toLocalFile();
    addModels(files);
    event->acceptProposedAction();
}

void ComparePanel::compare()
{
    if (paths_.isEmpty() || dataset_.isEmpty())
        return;
    std::vector<std::string> models;
    for (const QString &p : paths_)
        models.push_back(p.toStdString());
    ModelComparison::Options o;
    o.limit = limit_->value() > 0 ? limit_->value() : -1;
    o.rounds = rounds_;
    const std::string dataset = dataset_.toStdString();
    rows_.clear();
    showRows();
    setWorking(true);
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    status_->setText(tr("Loading the models…"));

    JobHandlers<std::vector<ModelComparison::Row>> on;
    on.done = [this](std::vector<ModelComparison::Row> &rows) {
        rows_ = rows;
        setWorking(false);
        showRows();
        showChart();
        int failed = 0;
        for (const auto &r : rows_)
            failed += r.ok() ? 0 : 1;
        status_->setText(failed == 0 ? tr("Compared %1 models. Double-click a model to open it.").arg(rows_.size())
                                     : tr("Compared %1 models; %2 could not be loaded or run (hover over the row).")
                                           .arg(rows_.size() - static_cast<size_t>(failed))
                                           .arg(failed));
        Q_EMIT finished();
    };
    on.cancelled = [this] {
        setWorking(false);
        status_->setText(tr("Comparison stopped; the rows measured so far stay."));
        Q_EMIT finished();
    };
    on.failed = [this](const JobError &e) {
        setWorking(false);
        status_->setText(e.message);
        Q_EMIT finished();
    };
    jobs_->start<std::vector<ModelComparison::Row>>(
        [this, models, dataset, o](JobContext &job) {
            ModelComparison comparison(models, dataset, o);
            const QString description = QString::fromStdString(comparison.datasetDescription());
            bool finishedAll = false;
            while (!finishedAll) {
                finishedAll = comparison.run(&job);
                // Intermediate rows reach the table as they fill (on the GUI thread, in order).
                const auto rows = comparison.rows();
                const int permille = static_cast<int>(1000 * comparison.fraction());
                job.post([this, rows, permille, description] {
                    rows_ = rows;
                    progress_->setValue(permille);
                    showRows();
                    status_->setText(tr("Comparing on %1…").arg(description));
                });
            }
            return comparison.rows();
        },
        on);
}

void ComparePanel::stop() { jobs_->cancel(); }

void ComparePanel::showRows()
{
    table_->setRowCount(paths_.size());
    for (int i = 0; i < paths_.size(); ++i) {
        const ModelComparison::Row *r = static_cast<size_t>(i) < rows_.size() ? &rows_[static_cast<size_t>(i)] : nullptr;
        const bool loaded = r && r->ok() && r->params > 0;
        const QString name = r && !r->name.empty() ? QString::fromStdString(r->name) : QFileInfo(paths_[i]).fileName();
        auto *first = item(name);
        QString tip = paths_[i];
        if (r && !r->ok())
            tip += "\n" + tr("Could not be compared: %1").arg(QString::fromStdString(r->error));
        else if (r && !r->accuracyNote.empty())
            tip += "\n" + tr("No accuracy: %1").arg(QString::fromStdString(r->accuracyNote));
        first->setToolTip(tip);
        table_->setItem(i, Name, first);
        for (int c = Format; c < Columns; ++c)
            table_->setItem(i, c, item(QString()));
        if (r && !r->ok()) {
            // The reason can be long: the row says "failed", the tooltip (and the status line) why.
            table_->setItem(i, Format, item(tr("failed")));
            table_->item(i, Format)->setForeground(QColor(235, 110, 100));
            for (int c = Name; c < Columns; ++c)
                table_->item(i, c)->setToolTip(tip);
            continue;
        }
        if (!loaded) {
            table_->item(i, Format)->setText(tr("waiting"));
            continue;
        }
        table_->setItem(i, Format, item(QString::fromStdString(r->format)));
        table_->setItem(i, Params, item(count(r->params), double(r->params)));
        table_->setItem(i, Macs, item(count(r->macs), double(r->macs)));
        table_->setItem(i, Top1, item(std::isfinite(r->top1) ? percent(r->top1)
                                                              : (r->accuracyNote.empty() ? tr("…") : tr("n/a")),
                                      1));
        if (!r->accuracyNote.empty())
            table_->item(i, Top1)->setToolTip(QString::fromStdString(r->accuracyNote));
        table_->setItem(i, Top5, item(percent(r->topK), 1));
        table_->setItem(i, Ms, item(std::isfinite(r->msPerImage) ? QString::number(r->msPerImage, 'f', 2) : QString(), 1));
        table_->setItem(i, PerSecond,
                        item(std::isfinite(r->imagesPerSecond) ? QString::number(r->imagesPerSecond, 'f', 0)
                                                               : (r->throughputNote.empty() ? QString() : tr("n/a")),
                             1));
        if (!r->throughputNote.empty())
            table_->item(i, PerSecond)->setToolTip(QString::fromStdString(r->throughputNote));
        table_->setItem(i, Memory, item(QString::number(r->peakBytes1 / 1048576.0, 'f', 1), 1));
        QString field = "-";
        if (!r->lastConv.empty())
            field = r->lastConvField.scope == ReceptiveField::Scope::Global
                        ? tr("whole image")
                        : QString("%1×%2").arg(r->lastConvField.y.size).arg(r->lastConvField.x.size);
        table_->setItem(i, Field, item(field, 1));
        table_->item(i, Field)->setToolTip(QString::fromStdString(r->lastConv));
        table_->setItem(i, Depthwise, item(share(r->shares.depthwise), 1));
        table_->setItem(i, Pointwise, item(share(r->shares.pointwise), 1));
        table_->setItem(i, Full, item(share(r->shares.full), 1));
        table_->setItem(i, Fc, item(share(r->shares.fullyConnected), 1));
    }
}

void ComparePanel::showChart()
{
    auto *chart = new QChart;
    chart->setTitle(tr("Accuracy against multiply-adds (marker size: parameters)"));
    // x is log10(multiply-adds), labelled at 1-2-5 steps ("2M", "5M", "10M").
    auto *x = new QCategoryAxis;
    x->setTitleText(tr("multiply-adds per image (log scale)"));
    x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    auto *y = new QValueAxis;
    y->setTitleText(tr("top-1 accuracy (%)"));
    y->setLabelFormat("%.1f");
    double xmin = 1e300, xmax = 0, ymin = 100, ymax = 0, pmax = 1;
    for (const auto &r : rows_)
        if (r.ok() && r.macs > 0 && std::isfinite(r.top1)) {
            xmin = std::min(xmin, double(r.macs));
            xmax = std::max(xmax, double(r.macs));
            ymin = std::min(ymin, 100 * r.top1);
            ymax = std::max(ymax, 100 * r.top1);
            pmax = std::max(pmax, double(r.params));
        }
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    auto ticks = [x](double lo, double hi) {
        x->setRange(lo, hi);
        const char *suffix[] = {"", "k", "M", "G", "T"};
        for (int e = static_cast<int>(std::floor(lo)); e <= static_cast<int>(std::ceil(hi)); ++e)
            for (double m : {1.0, 2.0, 5.0}) {
                const double at = e + std::log10(m);
                if (at < lo - 1e-9 || at > hi + 1e-9)
                    continue;
                const int k = std::clamp(e / 3, 0, 4);
                x->append(QString::number(m * std::pow(10.0, e - 3 * k), 'g', 3) + suffix[k], at);
            }
    };
    if (xmax > 0) {
        ticks(std::floor(2 * std::log10(xmin) - 0.5) / 2, std::ceil(2 * std::log10(xmax) + 0.5) / 2);
        y->setRange(std::max(0.0, std::floor(ymin - 2)), std::min(100.0, std::ceil(ymax + 2)));
        for (const auto &r : rows_) {
            if (!(r.ok() && r.macs > 0 && std::isfinite(r.top1)))
                continue;
            auto *s = new QScatterSeries;
            s->setName(QString::fromStdString(r.name));
            s->setMarkerShape(QScatterSeries::MarkerShapeCircle);
            s->setMarkerSize(10 + 40 * std::sqrt(double(r.params) / pmax)); // area ∝ parameters
            s->append(std::log10(double(r.macs)), 100 * r.top1);
            chart->addSeries(s);
            s->attachAxis(x);
            s->attachAxis(y);
        }
    } else {
        ticks(5, 9);
        y->setRange(0, 100);
    }
    AppStyle::showChart(chart_, chart);
}

} // namespace convscope
