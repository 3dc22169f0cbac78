#pragma once
// Builds the layer table (LayerInfo rows) from a probe's module calls and one forward pass at the input size.
#include "model/LayerInfo.h"
#include "model/ModelSidecar.h"
#include "model/Probe.h"

#include <vector>

namespace convscope {

class LayerListBuilder {
public:
    /// `captured[i]` is the output of call i for ONE image (undefined when not capturable).
    static std::vector<LayerInfo> build(const torch::jit::Module &root, const Probe &probe,
                                        const std::vector<torch::Tensor> &captured, const ModelSidecar &sidecar);

    /// Kind of a leaf module from its class name ("Conv2d" -> Conv, "ReLU6" -> Activation...).
    static LayerKind kindOf(const std::string &type);
};

} // namespace convscope
