#pragma once
// The selected layer's filter weights: a tile grid (colour / slices / norm, normalised per filter or per layer)
// and a histogram of all weights. Non-conv layers get a short explanation instead.
#include "tiles/FilterWeights.h"
#include "jobs/Workspace.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QChart;
class QChartView;
class QBarSeries;

namespace convscope {

class TileGridView;

class FiltersPanel : public QWidget {
    Q_OBJECT
public:
    explicit FiltersPanel(Workspace *workspace, QWidget *parent = nullptr);
    TileGridView *grid() const { return grid_; }
    QComboBox *modeBox() const { return mode_; }
    /// Exports the grid at `width` pixels to .png or .svg. Throws IoError/UsageError.
    void exportTo(const QString &path, int width) const;

private:
    void refresh();
    void showHistogram(const torch::Tensor &weights);
    void replaceChart(QChart *chart);

    Workspace *workspace_;
    QComboBox *mode_, *scaling_;
    QLabel *info_;
    TileGridView *grid_;
    QChartView *histogram_;
};

} // namespace convscope
