#include "panels/FiltersPanel.h"

#include "widgets/AppStyle.h"
#include "common/Error.h"
#include "model/ModulePath.h"
#include "widgets/TileGridView.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QSignalBlocker>
#include <QStandardItemModel>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QValueAxis>
#include <QVBoxLayout>

namespace convscope {

FiltersPanel::FiltersPanel(Workspace *workspace, QWidget *parent)
    : QWidget(parent), workspace_(workspace), mode_(new QComboBox), scaling_(new QComboBox), info_(new QLabel),
      grid_(new TileGridView), histogram_(new QChartView)
{
    mode_->addItem(tr("Auto"), "auto");
    mode_->addItem(tr("Colour (RGB)"), "color");
    mode_->addItem(tr("Slices per input channel"), "slices");
    mode_->addItem(tr("Norm over input channels"), "norm");
    mode_->setToolTip(tr("Auto: colour for 3 input channels, signed slices for 1, the L2 norm otherwise"));
    scaling_->addItem(tr("Normalise per filter"));
    scaling_->addItem(tr("Normalise per layer"));
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Show")));
    bar->addWidget(mode_);
    bar->addWidget(scaling_);
    bar->addStretch();
    bar->addWidget(info_);
    histogram_->setRenderHint(QPainter::Antialiasing);
    AppStyle::clearChart(histogram_);
    histogram_->setMinimumHeight(110);
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(grid_);
    split->addWidget(histogram_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({520, 170});
    histogram_->setMaximumHeight(260);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(split);
    connect(mode_, &QComboBox::currentIndexChanged, this, &FiltersPanel::refresh);
    connect(scaling_, &QComboBox::currentIndexChanged, this, &FiltersPanel::refresh);
    connect(workspace_, &Workspace::layerChanged, this, &FiltersPanel::refresh);
    connect(workspace_, &Workspace::modelChanged, this, &FiltersPanel::refresh);
    refresh();
}

void FiltersPanel::refresh()
{
    auto model = workspace_->model();
    if (!model || workspace_->layer() < 0) {
        grid_->clear(tr("Open a model and pick a layer."));
        AppStyle::clearChart(histogram_);
        info_->clear();
        return;
    }
    const LayerInfo &layer = model->layers()[workspace_->layer()];
    auto module = ModulePath::find(model->module(), layer.modulePath);
    torch::Tensor w = module ? ModulePath::tensorAttribute(*module, "weight") : torch::Tensor();
    if (w.defined())
        showHistogram(w);
    else
        AppStyle::clearChart(histogram_, tr("This layer has no weights"));
    // Colour needs 3 input channels: offered only where it applies (a layer without it falls back to Auto).
    const bool colour = w.defined() && w.dim() == 4 && w.size(1) == 3;
    if (auto *items = qobject_cast<QStandardItemModel *>(mode_->model())) {
        items->item(1)->setEnabled(colour);
        items->item(1)->setToolTip(colour ? QString() : tr("Needs a layer with 3 input channels"));
    }
    if (!colour && mode_->currentIndex() == 1) {
        const QSignalBlocker block(mode_);
        mode_->setCurrentIndex(0);
    }
    try {
        FilterWeights::Options o;
        o.mode = FilterWeights::parseMode(mode_->currentData().toString().toStdString());
        o.scaling = scaling_->currentIndex() == 0 ? TileScaling::PerTile : TileScaling::PerSet;
        TileSet tiles = FilterWeights::tiles(*model, layer, o);
        info_->setText(QString::fromStdString(tiles.title));
        tiles.title.clear();
        grid_->setTiles(std::move(tiles));
    } catch (const Error &e) {
        info_->setText(QString::fromStdString(layer.path));
        grid_->clear(QString::fromStdString(e.what()));
    }
}

void FiltersPanel::replaceChart(QChart *chart)
{
    QChart *old = histogram_->chart(); // the view releases the old chart without deleting it
    histogram_->setChart(chart);
    delete old;
}

void FiltersPanel::showHistogram(const torch::Tensor &weights)
{
    const int bins = 60;
    torch::Tensor w = weights.detach().to(torch::kFloat32).flatten();
    const float lo = w.min().item<float>(), hi = w.max().item<float>();
    torch::Tensor h = torch::histc(w, bins, lo, hi);
    auto *set = new QBarSet(tr("weights"));
    set->setColor(QColor(0x26, 0x82, 0x8e));
    set->setBorderColor(QColor(0x26, 0x82, 0x8e));
    QStringList labels;
    for (int i = 0; i < bins; ++i) {
        *set << h[i].item<float>();
        labels << QString::number(lo + (hi - lo) * (i + 0.5) / bins, 'g', 2);
    }
    auto *series = new QBarSeries;
    series->append(set);
    series->setBarWidth(1.0);
    auto *chart = new QChart;
    chart->addSeries(series);
    chart->setTitle(tr("Weight histogram (%1 values, %2 to %3)").arg(w.numel()).arg(lo, 0, 'g', 3).arg(hi, 0, 'g', 3));
    chart->legend()->hide();
    auto *x = new QBarCategoryAxis;
    x->append(labels);
    x->setLabelsVisible(false);
    auto *y = new QValueAxis;
    y->setLabelFormat("%d");
    y->setTickCount(3);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    y->setLabelsFont(small);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->setTheme(QChart::ChartThemeDark);
    chart->setBackgroundBrush(palette().color(QPalette::Base));
    set->setColor(QColor(0x35, 0xb7, 0x79));
    set->setBorderColor(QColor(0x35, 0xb7, 0x79));
    replaceChart(chart);
}

void FiltersPanel::exportTo(const QString &path, int width) const
{
    TileGridRenderer::Options o;
    o.width = width;
    TileSet tiles = grid_->tiles();
    tiles.title = info_->text().toStdString();
    TileGridRenderer(o).write(tiles, path);
}

} // namespace convscope
