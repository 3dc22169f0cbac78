#pragma once
// A set of small images shown as a grid (filters, activation maps), independent of how they are drawn.
#include <torch/types.h>

#include <string>
#include <vector>

namespace convscope {

/// How tile values are meant to be coloured.
enum class TileValues {
    Color,    ///< 3 channels (RGB) in [0, 1], shown as they are
    Signed,   ///< 1 channel in [-1, 1], shown with a diverging colormap (0 = neutral)
    Unsigned, ///< 1 channel in [0, 1], shown with a perceptually uniform colormap
};

struct TileSet {
    torch::Tensor values;              ///< N×C×h×w float32 (C = 3 for Color, else 1), already normalised
    TileValues kind = TileValues::Unsigned;
    torch::Tensor raw;                 ///< N×... unnormalised values of each tile (hover statistics); may be undefined
    std::vector<std::string> captions; ///< one per tile (may be empty)
    int columns = 0;                   ///< tiles per row; 0 = as square as possible
    std::string title;                 ///< drawn above the grid when not empty
    std::int64_t count() const { return values.defined() ? values.size(0) : 0; }
};

/// Whether normalisation spans each tile alone or the whole set.
enum class TileScaling { PerTile, PerSet };

} // namespace convscope
