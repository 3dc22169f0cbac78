#pragma once
// Rewrites of an ONNX graph before it is imported, each giving the graph PyTorch's shape where an exporter wrote it
// differently: one HardSwish node for x · HardSigmoid(x), the taken branch of an If whose condition is constant, and
// an image input taken channels-first where the file transposes a channels-last input right away.
#include "import/OnnxGraphState.h"

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace convscope {

class OnnxGraphRewrites {
public:
    /// Exporters before opset 14 write hard-swish as x · HardSigmoid(x) (alpha 1/6, beta 1/2): one HardSwish node
    /// again, so the layer is one activation (aten::hardswish, with its backprop rule) as in PyTorch.
    static onnx::ModelProto fuseHardSwish(onnx::ModelProto model);
    /// Replaces every If node whose condition is in `constants` by its taken branch (the branch's initializers become
    /// Constant nodes, its outputs Identity nodes named as the If's outputs); PyTorch writes LocalResponseNorm's rank
    /// check as one. Returns whether anything changed (folding again may settle the next If).
    static bool inlineConstantIfs(onnx::ModelProto &model, const OnnxConstants &constants);
    /// Keras/TensorFlow exports (tf2onnx) take images channels-last (N×H×W×C) and transpose them to N×C×H×W first
    /// thing. Every such input (OnnxFile::isChannelsLastImage) is declared N×C×H×W instead and its transposes
    /// become Identity, so the imported model takes images as every other model does. Returns the inputs changed.
    static std::vector<std::string> acceptChannelsFirst(onnx::ModelProto &model);
};

} // namespace convscope
