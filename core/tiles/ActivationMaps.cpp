#include "tiles/ActivationMaps.h"

#include "common/Error.h"

namespace convscope {

TileSet ActivationMaps::tiles(const torch::Tensor &activation, const Options &options)
{
    torch::Tensor a = activation.detach().to(torch::kFloat32);
    if (a.dim() == 4 || a.dim() == 2)
        a = a[0];
    if (a.dim() == 1)
        a = a.reshape({a.size(0), 1, 1});
    if (a.dim() != 3)
        throw UsageError("cannot show an activation of " + std::to_string(activation.dim()) +
                         " dimensions as maps");
    const int64_t c = a.size(0);
    std::vector<int64_t> order(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; ++i)
        order[i] = i;
    if (options.order == Order::Strength) {
        torch::Tensor strength = a.reshape({c, -1}).mean(1);
        auto sorted = strength.argsort(0, /*descending=*/true);
        for (int64_t i = 0; i < c; ++i)
            order[i] = sorted[i].item<int64_t>();
    }
    torch::Tensor idx = torch::tensor(order, torch::kInt64);
    a = a.index_select(0, idx);
    const bool isSigned = a.min().item<float>() < 0;
    torch::Tensor flat = a.reshape({c, -1});
    TileSet set;
    set.raw = a;
    const float eps = 1e-12f;
    if (isSigned) {
        torch::Tensor m = options.scaling == TileScaling::PerTile ? flat.abs().amax(1, true) : flat.abs().max().reshape({1, 1});
        set.values = (flat / m.clamp_min(eps)).reshape({c, 1, a.size(1), a.size(2)});
        set.kind = TileValues::Signed;
    } else {
        torch::Tensor hi = options.scaling == TileScaling::PerTile ? flat.amax(1, true) : flat.max().reshape({1, 1});
        set.values = (flat / hi.clamp_min(eps)).reshape({c, 1, a.size(1), a.size(2)});
        set.kind = TileValues::Unsigned;
    }
    for (int64_t i = 0; i < c; ++i)
        set.captions.push_back(std::to_string(order[i]));
    return set;
}

} // namespace convscope
