#pragma once
// One activation map drawn over the image the model saw (perceptual colormap, adjustable opacity).
#include <QImage>
#include <torch/types.h>

namespace convscope {

class OverlayRenderer {
public:
    /// `input`: the preprocessed image (any size); `map`: H×W activations (any size, upsampled bilinearly);
    /// `opacity` in [0,1]; result is `size`×`size` scaled to keep the input's aspect ratio.
    static QImage render(const QImage &input, const torch::Tensor &map, float opacity, int size);
};

} // namespace convscope
