#pragma once
// "Which layer classifies best" in the window: the linear probes' accuracy per layer (LayerProbe rows) as a table —
// layer, features, dimensions, training/test images, logistic regression and linear SVM accuracy (± spread over
// draws with N per class; a layer that could not be probed says why in its tooltip) — and a chart of accuracy
// against depth, one line per classifier. Clicking a layer in either asks for it to be selected everywhere.
#include "probe/LayerProbe.h"

#include <QWidget>

#include <vector>

class QChartView;
class QLabel;
class QTableWidget;

namespace convscope {

class ProbeResultsView : public QWidget {
    Q_OBJECT
public:
    explicit ProbeResultsView(QWidget *parent = nullptr);

    /// Shows `rows` (one per layer × classifier, layers in the model's order); `split` describes the split.
    void setRows(const std::vector<LayerProbe::Row> &rows, const QString &split);
    QTableWidget *table() const { return table_; }
    QChartView *chart() const { return chart_; }
    /// Layers in table order.
    const QStringList &layers() const { return layers_; }

Q_SIGNALS:
    /// The user clicked this layer (its path).
    void layerClicked(const QString &layer);

private:
    QLabel *caption_;
    QTableWidget *table_;
    QChartView *chart_;
    QStringList layers_;
};

} // namespace convscope
