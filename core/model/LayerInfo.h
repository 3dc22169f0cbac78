#pragma once
// One module call of a model, as the layer list shows it and as the probe captures it.
#include "model/ReceptiveField.h"

#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

/// Coarse role of a module call. `Block` is any module that calls other modules (Sequential, BasicBlock...).
enum class LayerKind { Conv, Linear, Activation, Pool, Norm, Block, Other };

/// Counts for people: "288", "18.4k", "3.61M", "1.20G".
std::string humanCount(std::int64_t n);

/// "conv", "linear", "activation", "pool", "norm", "block", "other".
const char *layerKindName(LayerKind kind);

/// A module call in forward order. Rows are produced by Probe; shapes and costs are for ONE image at the model's
/// input size (the batch dimension is kept as 1 in `outputShape`).
struct LayerInfo {
    int index = 0;              ///< position in forward order (0-based), also the probe's capture index
    std::string path;           ///< unique name: module path, plus "#k" when the module is called more than once
    std::string modulePath;     ///< module path without the call suffix ("layer1.0.relu")
    int callNumber = 0;         ///< 1-based call number for modules called several times, 0 when called once
    std::string type;           ///< module class without TorchScript's mangling ("Conv2d")
    LayerKind kind = LayerKind::Other;
    int depth = 0;              ///< nesting depth in the call tree (0 = child of the model)
    int parent = -1;            ///< index of the enclosing module call, -1 for top-level calls
    std::vector<std::int64_t> outputShape; ///< empty when the output is not a tensor or not capturable
    std::int64_t params = 0;    ///< parameters of the module (recursively), counted on every call row
    std::int64_t macs = 0;      ///< multiply-adds of this call for one image (conv and linear leaves; blocks sum
                                ///< their leaves)
    std::string category;       ///< cost category for the summary table ("Conv 1x1", "Conv dw 3x3", "Linear"...)
    bool capturable = true;     ///< false when the probe cannot return this call's output (see `whyNot`)
    std::string whyNot;         ///< reason the output cannot be captured
    std::string displayName;    ///< friendly name from the sidecar, or empty
    ReceptiveField field;       ///< input region each unit of the output sees (from the graph)
};

} // namespace convscope
