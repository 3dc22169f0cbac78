#include "widgets/ProbeResultsView.h"

#include "widgets/AppStyle.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QSplitter>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

namespace convscope {

ProbeResultsView::ProbeResultsView(QWidget *parent)
    : QWidget(parent), caption_(new QLabel), table_(new QTableWidget(0, 7)), chart_(new QChartView)
{
    caption_->setWordWrap(true);
    caption_->setText(tr("Trains a linear classifier on each layer's stored features and reports its accuracy on "
                         "held-out images: how much of the task each layer already encodes."));
    table_->setHorizontalHeaderLabels(
        {tr("Layer"), tr("Features"), tr("Dims"), tr("Train"), tr("Test"), tr("Logistic regression"), tr("Linear SVM")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setToolTip(tr("Click a layer to select it everywhere"));
    chart_->setMinimumHeight(110); // a bar per layer still reads; the Search page fits 1280×800
    chart_->setRenderHint(QPainter::Antialiasing);
    AppStyle::clearChart(chart_);
    auto *split = new QSplitter;
    split->addWidget(table_);
    split->addWidget(chart_);
    split->setSizes({450, 450});
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(caption_);
    layout->addWidget(split, 1);
    connect(table_, &QTableWidget::cellClicked, this, [this](int row, int) {
        if (row >= 0 && row < layers_.size())
            Q_EMIT layerClicked(layers_[row]);
    });
}

void ProbeResultsView::setRows(const std::vector<LayerProbe::Row> &rows, const QString &split)
{
    layers_.clear();
    std::map<QString, std::map<QString, const LayerProbe::Row *>> byLayer;
    for (const auto &r : rows) {
        const QString layer = QString::fromStdString(r.layer);
        if (!layers_.contains(layer))
            layers_ << layer;
        byLayer[layer][QString::fromStdString(r.classifier)] = &r;
    }
    caption_->setText(tr("<b>Which layer classifies best</b> — linear classifiers on each layer's features; "
                         "accuracy on the test images (split: %1).")
                          .arg(split.toHtmlEscaped()));
    table_->setRowCount(static_cast<int>(layers_.size()));
    const QStringList kinds{"logreg", "svm"};
    std::map<QString, QLineSeries *> lines;
    for (const QString &kind : kinds) {
        auto *line = new QLineSeries;
        line->setName(kind == "logreg" ? tr("logistic regression") : tr("linear SVM"));
        line->setPointsVisible(true);
        lines[kind] = line;
    }
    double low = 1.0;
    for (int i = 0; i < layers_.size(); ++i) {
        const auto &cells = byLayer[layers_[i]];
        const LayerProbe::Row *any = cells.begin()->second;
        const QStringList fixed{layers_[i], QString::fromStdString(any->descriptor), QString::number(any->dims),
                                QString::number(any->trainImages), QString::number(any->testImages)};
        for (int c = 0; c < fixed.size(); ++c)
            table_->setItem(i, c, new QTableWidgetItem(fixed[c]));
        for (int k = 0; k < kinds.size(); ++k) {
            auto it = cells.find(kinds[k]);
            auto *item = new QTableWidgetItem;
            if (it == cells.end()) {
                item->setText(QString());
            } else if (!it->second->error.empty()) {
                item->setText(tr("failed"));
                item->setToolTip(QString::fromStdString(it->second->error));
            } else {
                const LayerProbe::Row &r = *it->second;
                item->setText(r.repeats > 1 ? QString("%1 ± %2 %").arg(100 * r.accuracy, 0, 'f', 1).arg(100 * r.spread, 0, 'f', 1)
                                            : QString("%1 %").arg(100 * r.accuracy, 0, 'f', 2));
                item->setToolTip(r.converged ? tr("%1 L-BFGS iterations").arg(r.iterations)
                                             : tr("stopped after %1 iterations before converging").arg(r.iterations));
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
                lines[kinds[k]]->append(i, 100 * r.accuracy);
                low = std::min(low, r.accuracy);
            }
            table_->setItem(i, 5 + k, item);
        }
    }
    auto *chart = new QChart;
    chart->setTitle(tr("Which layer classifies best (test accuracy)"));
    auto *x = new QCategoryAxis; // one tick per layer, named after it
    x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    for (int i = 0; i < layers_.size(); ++i)
        x->append(layers_[i].section('.', -1) + (i > 0 && layers_[i].section('.', -1) == layers_[i - 1].section('.', -1)
                                                     ? QString(" (%1)").arg(i)
                                                     : QString()),
                  i);
    x->setRange(-0.3, std::max<double>(0.3, layers_.size() - 0.7));
    QFont small = x->labelsFont();
    small.setPixelSize(10);
    x->setLabelsFont(small);
    if (layers_.size() > 8)
        x->setLabelsAngle(-45);
    auto *y = new QValueAxis;
    const double bottom = std::max(0.0, std::floor(100 * low / 10) * 10 - 5);
    y->setRange(bottom, 100);
    y->setTickCount(static_cast<int>((100 - bottom) / (100 - bottom > 40 ? 10 : 5)) + 1); // round percentages
    y->setLabelFormat("%.0f %%");
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (const QString &kind : kinds) {
        if (lines[kind]->count() == 0) {
            delete lines[kind];
            continue;
        }
        chart->addSeries(lines[kind]);
        lines[kind]->attachAxis(x);
        lines[kind]->attachAxis(y);
        connect(lines[kind], &QLineSeries::clicked, this, [this](const QPointF &p) {
            const int i = static_cast<int>(std::lround(p.x()));
            if (i >= 0 && i < layers_.size())
                Q_EMIT layerClicked(layers_[i]);
        });
    }
    AppStyle::showChart(chart_, chart);
}

} // namespace convscope
