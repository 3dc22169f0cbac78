#pragma once
// The lecture's accuracy-against-operations figure for a model comparison: one marker per model at (multiply-adds
// per image on a log axis, top-1 accuracy), marker area proportional to the number of parameters, each named.
// Headless (QPainter on QImage or SVG), shared by `convscope compare -o` and the Compare window.
#include "compare/ModelComparison.h"

#include <QImage>
#include <QString>

#include <vector>

class QPainter;

namespace convscope {

class ComparisonChartRenderer {
public:
    struct Options {
        int width = 900;          ///< pixels
        int height = 600;
        QString title = "Accuracy against multiply-adds (marker area = parameters)";
    };

    ComparisonChartRenderer() = default;
    explicit ComparisonChartRenderer(Options options) : options_(std::move(options)) {}

    QImage render(const std::vector<ModelComparison::Row> &rows) const;
    /// Writes .png or .svg (by suffix). Throws UsageError (other suffix) or IoError.
    void write(const std::vector<ModelComparison::Row> &rows, const QString &path) const;
    /// Draws into any painter, on a width×height area.
    void paint(QPainter &painter, const std::vector<ModelComparison::Row> &rows) const;

private:
    Options options_;
};

} // namespace convscope
