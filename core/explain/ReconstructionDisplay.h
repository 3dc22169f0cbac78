#pragma once
// Turns raw reconstructions and saliency maps (input-space gradients, Grad-CAM maps) into RGB images in [0, 1] for
// tiles, sheets and overlays. Shared by the GUI, the CLI and the sheets so they all look the same.
#include <torch/types.h>

#include <string>

namespace convscope {

class ReconstructionDisplay {
public:
    enum class Style {
        Auto,      ///< Rgb for 3-channel inputs, Signed otherwise
        Rgb,       ///< the classic deconvnet look: each channel v / max|v| · ½ + ½ (zero = mid grey)
        Signed,    ///< channels summed, blue–white–red diverging colormap, symmetric around 0 (white = 0)
        Magnitude, ///< max over channels of |v|, normalised to [0, 1] per map, black–red–yellow–white ramp
    };

    /// Parses "auto", "rgb", "signed", "magnitude" (UsageError otherwise).
    static Style parse(const std::string &name);

    /// `map`: C×H×W (signed) or H×W (unsigned, e.g. Grad-CAM: always the Magnitude ramp). Returns 3×H×W float32.
    /// Normalised per map; a map of zeros gives mid grey / white / black.
    static torch::Tensor render(const torch::Tensor &map, Style style);

    /// The heat ramp for values in [0, 1] (any shape S) as 3×S.
    static torch::Tensor heat(const torch::Tensor &unit);

    /// `image` 3×H×W in [0, 1] with an H'×W' map ≥ 0 (upsampled bilinearly, normalised to its maximum) laid over it
    /// in the heat ramp at `opacity` (0..1); weak responses show more of the image.
    static torch::Tensor overlay(const torch::Tensor &image, const torch::Tensor &map, float opacity);
};

} // namespace convscope
