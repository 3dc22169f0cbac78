#pragma once
// The app's look: Fusion style with a dark palette (colormaps read best on dark backgrounds).
class QApplication;
class QChart;
class QChartView;

namespace convscope {

class AppStyle {
public:
    static void apply(QApplication &app);
    /// Shows `chart` in `view` in the app's dark chart theme, legend below, and deletes the chart it replaces.
    static void showChart(QChartView *view, QChart *chart);
};

} // namespace convscope
