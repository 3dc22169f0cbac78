#pragma once
// A layer's activation tensor for one image as tiles, one per channel.
#include "tiles/TileSet.h"

namespace convscope {

class ActivationMaps {
public:
    enum class Order {
        Channel,  ///< channel index order
        Strength, ///< strongest channel (largest mean activation) first
    };
    struct Options {
        TileScaling scaling = TileScaling::PerTile; ///< PerSet shows which channels respond at all
        Order order = Order::Channel;
    };

    /// `activation` is C×H×W or 1×C×H×W (a fully connected output C or 1×C becomes one C×1×1 strip per unit).
    /// Values with negative entries are shown signed, otherwise unsigned.
    static TileSet tiles(const torch::Tensor &activation, const Options &options);
};

} // namespace convscope
