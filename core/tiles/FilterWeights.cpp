#include "tiles/FilterWeights.h"

#include "common/Error.h"
#include "model/ModulePath.h"

namespace convscope {

namespace {

/// Scales `t` (N×...) per tile or as a whole: unsigned to [0,1] by min/max, signed to [-1,1] by max |value|.
torch::Tensor scale(torch::Tensor t, bool isSigned, TileScaling scaling)
{
    const auto n = t.size(0);
    torch::Tensor flat = t.reshape({n, -1});
    const float eps = 1e-12f;
    if (isSigned) {
        torch::Tensor m = scaling == TileScaling::PerTile ? flat.abs().amax(1, true) : flat.abs().max().reshape({1, 1});
        return (flat / m.clamp_min(eps)).reshape(t.sizes());
    }
    torch::Tensor lo = scaling == TileScaling::PerTile ? flat.amin(1, true) : flat.min().reshape({1, 1});
    torch::Tensor hi = scaling == TileScaling::PerTile ? flat.amax(1, true) : flat.max().reshape({1, 1});
    return ((flat - lo) / (hi - lo).clamp_min(eps)).reshape(t.sizes());
}

} // namespace

FilterWeights::Mode FilterWeights::parseMode(const std::string &name)
{
    if (name == "auto") return Mode::Auto;
    if (name == "color" || name == "colour") return Mode::Color;
    if (name == "slices") return Mode::Slices;
    if (name == "norm") return Mode::Norm;
    throw UsageError("unknown filter mode '" + name + "' (use auto, color, slices or norm)");
}

TileSet FilterWeights::tiles(const Model &model, const LayerInfo &layer, const Options &options)
{
    auto module = ModulePath::find(model.module(), layer.modulePath);
    torch::Tensor w = module ? ModulePath::tensorAttribute(*module, "weight") : torch::Tensor();
    if (layer.kind != LayerKind::Conv || !w.defined() || w.dim() != 4)
        throw UsageError("'" + layer.path + "' is a " + layer.type +
                         "; filter weights are shown for 2-D convolutions (pick a conv layer from `convscope info`)");
    // The first convolution of a BGR model reads the image's planes blue first: its colour tiles are shown in RGB
    // like every other image (the slices and raw weights keep the model's order).
    bool swap = false;
    if (model.input().order == ChannelOrder::Bgr && w.size(1) == 3)
        for (const LayerInfo &l : model.layers())
            if (l.kind == LayerKind::Conv) {
                swap = &l == &layer || l.path == layer.path;
                break;
            }
    TileSet set = tiles(w, options);
    if (swap && set.kind == TileValues::Color)
        set.values = set.values.flip(1);
    set.title = layer.path + " (" + layer.type + ", " + std::to_string(w.size(0)) + " filters " +
                std::to_string(w.size(1)) + "×" + std::to_string(w.size(2)) + "×" + std::to_string(w.size(3)) + ")" +
                (swap ? " · input planes BGR, shown as RGB" : "");
    return set;
}

TileSet FilterWeights::tiles(const torch::Tensor &weight, const Options &options)
{
    torch::Tensor w = weight.detach().to(torch::kFloat32).contiguous();
    const int64_t out = w.size(0), in = w.size(1);
    Mode mode = options.mode;
    if (mode == Mode::Auto)
        mode = in == 3 ? Mode::Color : in == 1 ? Mode::Slices : Mode::Norm;
    if (mode == Mode::Color && in != 3)
        throw UsageError("colour filters need 3 input channels; this layer has " + std::to_string(in) +
                         " (show slices per input channel, or their norm)");
    TileSet set;
    if (mode == Mode::Color) {
        set.kind = TileValues::Color;
        set.values = scale(w, false, options.scaling);
        set.raw = w;
        for (int64_t i = 0; i < out; ++i)
            set.captions.push_back(std::to_string(i));
    } else if (mode == Mode::Norm) {
        set.kind = TileValues::Unsigned;
        set.values = scale(w.pow(2).sum(1, true).sqrt(), false, options.scaling);
        set.raw = w;
        for (int64_t i = 0; i < out; ++i)
            set.captions.push_back(std::to_string(i));
    } else {
        const int64_t shown = std::min<int64_t>(in, std::max(1, options.maxSlicesChannels));
        set.kind = TileValues::Signed;
        set.raw = w.narrow(1, 0, shown).reshape({out * shown, 1, w.size(2), w.size(3)});
        set.values = scale(set.raw, true, options.scaling);
        set.columns = shown > 1 ? static_cast<int>(shown) : 0; // one channel: a square grid of filters
        for (int64_t o = 0; o < out; ++o)
            for (int64_t i = 0; i < shown; ++i)
                set.captions.push_back(shown > 1 ? std::to_string(o) + ":" + std::to_string(i) : std::to_string(o));
    }
    return set;
}

} // namespace convscope
