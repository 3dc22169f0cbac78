#pragma once
// "Which layers settle first": for a checkpoint series, one line per scanned layer — the share of each unit's top
// images that a checkpoint shares with the next one (FeatureEvolution's consecutive overlap, averaged over the
// layer's units) at each transition, or with the last checkpoint. Lower layers reach 1 earlier.
// Headless (QPainter on QImage or SVG), shared by `convscope evolution --chart` and the Evolution window.
#include "evolution/FeatureEvolution.h"

#include <QImage>
#include <QString>

#include <vector>

class QPainter;

namespace convscope {

class StabilityChartRenderer {
public:
    struct Options {
        int width = 900;   ///< pixels
        int height = 560;
        bool toFinal = false; ///< plot the overlap with the last checkpoint instead of with the next one
        QString title;     ///< empty: a title saying what is plotted
    };

    StabilityChartRenderer() = default;
    explicit StabilityChartRenderer(Options options) : options_(std::move(options)) {}

    /// `labels`: the checkpoints' names (size T); `layers`: FeatureEvolution::stability().
    QImage render(const std::vector<std::string> &labels,
                  const std::vector<FeatureEvolution::LayerStability> &layers) const;
    /// Writes .png or .svg (by suffix). Throws UsageError (other suffix) or IoError.
    void write(const std::vector<std::string> &labels, const std::vector<FeatureEvolution::LayerStability> &layers,
               const QString &path) const;
    void paint(QPainter &painter, const std::vector<std::string> &labels,
               const std::vector<FeatureEvolution::LayerStability> &layers) const;

private:
    QString title() const;
    Options options_;
};

} // namespace convscope
