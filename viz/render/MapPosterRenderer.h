#pragma once
// Draws a dataset map (2-D embedding) as a poster: every image's thumbnail at its position, framed in its class
// colour, with a legend. Headless (QPainter on QImage); any resolution.
#include <QImage>
#include <QString>

#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace convscope {

class MapPosterRenderer {
public:
    struct Options {
        int width = 4000;  ///< poster width and height in pixels
        int thumb = 28;    ///< thumbnail size in pixels (0 = coloured dots only)
        QString title;     ///< drawn at the top when not empty
    };
    /// Colour of class `label` (-1 = unlabelled) in a 20-colour qualitative palette.
    static QColor classColour(int label);

    /// `coords`: N×2; `thumbnail(i)` gives image i's RGB tensor (3×h×w in [0, 1]); `labels` per point (-1 =
    /// none); `classNames` label → name for the legend.
    static QImage render(const torch::Tensor &coords, const std::function<torch::Tensor(std::int64_t)> &thumbnail,
                         const std::vector<int> &labels, const std::vector<std::string> &classNames,
                         const Options &options);
};

} // namespace convscope
