#pragma once
// The ONNX operators Convscope reads, each written as TorchScript source over ATen ops (torch.conv2d,
// torch.batch_norm, torch._C._nn.linear...), so that an imported model is an ordinary TorchScript module: the probe,
// receptive fields, the rectifier rules of deconvnet / guided backprop and everything else see the same ops as in a
// model scripted from PyTorch.
//
// Attributes are read as the ONNX operator specification defines them for opsets 7–17 (attributes that moved to
// inputs in later opsets — axes, pads, split, min/max — are read from either place; those inputs must be constant
// once the importer has folded the graph's constant computations).
#include <string>
#include <vector>

namespace convscope {

class OnnxEmitContext;

class OnnxOperators {
public:
    /// Whether `opType` (default domain) can be imported. "Constant" is handled by the importer.
    static bool supports(const std::string &opType);
    /// Every supported operator, sorted (for `convscope info --onnx-operators` and the conformance table).
    static std::vector<std::string> supported();
    /// Whether a node of this type is what a user would call a layer (a convolution, normalisation, activation,
    /// pooling...): such a node gets a module of its own, so the layer table lists it and the probe can capture it.
    /// Other nodes (Add, Concat, Reshape...) are computed inline in their scope's forward().
    static bool isLayer(const std::string &opType);
    /// Whether the importer may evaluate a node of this type at load time when all its inputs are constant.
    static bool foldable(const std::string &opType);
    /// Appends the node's computation to the context's function body. Throws UnsupportedModelError for an
    /// attribute combination that cannot be expressed (naming the node and why).
    static void emit(OnnxEmitContext &ctx);
};

} // namespace convscope
