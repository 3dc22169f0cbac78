#pragma once
// The app's look: Fusion style with a dark palette (colormaps read best on dark backgrounds).
#include <QString>

class QApplication;
class QChart;
class QChartView;

namespace convscope {

class AppStyle {
public:
    static void apply(QApplication &app);
    /// Shows `chart` in `view` in the app's dark chart theme, legend below, and deletes the chart it replaces.
    static void showChart(QChartView *view, QChart *chart);
    /// An empty chart in the dark theme (no white box before there is data), titled `hint` (may be empty).
    static void clearChart(QChartView *view, const QString &hint = {});
};

} // namespace convscope
