#pragma once
// The weights of a 2-D convolution as tiles.
#include "model/Model.h"
#include "tiles/TileSet.h"

namespace convscope {

class FilterWeights {
public:
    enum class Mode {
        Auto,   ///< Color for 3 input channels, Slices (signed weights) for 1, else Norm
        Color,  ///< one RGB tile per filter (3 input channels only); weights mapped linearly to [0, 1]
        Slices, ///< one signed tile per (filter, input channel): rows = filters, columns = input channels
        Norm,   ///< one tile per filter: the L2 norm of its weights across input channels (unsigned)
    };
    struct Options {
        Mode mode = Mode::Auto;
        TileScaling scaling = TileScaling::PerTile; ///< PerSet keeps filters comparable in strength
        int maxSlicesChannels = 64;                 ///< Slices: show at most this many input channels
    };

    /// Throws UsageError when `layer` is not a 2-D convolution (with its type in the message).
    static TileSet tiles(const Model &model, const LayerInfo &layer, const Options &options);
    /// Same from a raw weight tensor out×in×kh×kw.
    static TileSet tiles(const torch::Tensor &weight, const Options &options);
    /// "auto", "color", "slices", "norm" -> Mode; throws UsageError.
    static Mode parseMode(const std::string &name);
};

} // namespace convscope
