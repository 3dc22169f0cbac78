#include "model/LayerInfo.h"

#include <cstdio>

namespace convscope {

std::string humanCount(std::int64_t n)
{
    char buf[32];
    if (n >= 1'000'000'000)
        std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
    else if (n >= 1'000'000)
        std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
    else if (n >= 10'000)
        std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
    return buf;
}

const char *layerKindName(LayerKind kind)
{
    switch (kind) {
    case LayerKind::Conv: return "conv";
    case LayerKind::Linear: return "linear";
    case LayerKind::Activation: return "activation";
    case LayerKind::Pool: return "pool";
    case LayerKind::Norm: return "norm";
    case LayerKind::Block: return "block";
    case LayerKind::Other: break;
    }
    return "other";
}

} // namespace convscope
