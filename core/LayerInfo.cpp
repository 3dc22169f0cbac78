#include "LayerInfo.h"

namespace convscope {

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
