#pragma once
// Receptive fields of every module call, read from the probe's (inlined) forward graph: each value derived from the
// input image carries an affine field per axis, pushed through the ops in graph order —
//   convolution / pooling (kernel k, stride s, padding p, dilation d):  stride·s, offset − stride·p,
//                                                                        size + (k − 1)·d·stride
//   pointwise ops, batch norm, residual sums:                            the union of their inputs' fields
//   channel concatenation:                                               the union (approximate when the
//                                                                        branches' fields differ: then each
//                                                                        channel sees less than the union)
//   global pooling, flatten, fully connected after those:                the whole image (exact)
//   anything else that mixes positions (reshape, interpolate, loops...): the whole image, marked approximate.
// Map extents are followed too, so a unit near the far edge of a map whose strides do not divide the image size
// is known not to see the last rows (that is where gradient support and the plain formula disagree).
// Works for any architecture, scripted or traced; branches (prim::If) unite their arms' fields.
#include "model/ProbeGraphBuilder.h"
#include "model/ReceptiveField.h"

#include <optional>

#include <unordered_map>

namespace convscope {

class ReceptiveFieldAnalyzer {
public:
    /// `root` resolves weight shapes (kernel sizes) from the graph's attribute reads; the image size gives every
    /// map's extent (for the reach of strided layers and ceil-mode pools).
    ReceptiveFieldAnalyzer(const torch::jit::Module &root, const ProbeGraph &graph, std::int64_t imageHeight,
                           std::int64_t imageWidth);

    /// One field per module call (aligned with ProbeGraph::calls); calls that cannot be captured get an
    /// approximate whole-image field.
    std::vector<ReceptiveField> analyze();

private:
    void visit(torch::jit::Block *block);
    void visitNode(torch::jit::Node *node);
    /// If / Loop nodes: their blocks first; an If's outputs unite its branches' fields.
    void visitControlFlow(torch::jit::Node *node, bool touched);
    /// The field of a plain node's outputs; nullopt when the op's effect on positions is unknown.
    std::optional<ReceptiveField> outputField(torch::jit::Node *node);
    std::optional<ReceptiveField> convolutionField(torch::jit::Node *node, bool generic);
    std::optional<ReceptiveField> poolField(torch::jit::Node *node, bool average);
    std::optional<ReceptiveField> adaptivePoolField(torch::jit::Node *node);
    /// constant_pad_nd over the two spatial dims (ONNX Pad, uneven conv/pool padding): the map grows.
    std::optional<ReceptiveField> padField(torch::jit::Node *node);
    /// cat / chunk / split along channels keep positions; along other axes they do not.
    std::optional<ReceptiveField> channelSplitField(torch::jit::Node *node, bool concatenation,
                                                    const ReceptiveField &in);
    /// aten::append of a map to a list: the list's field grows.
    std::optional<ReceptiveField> appendField(torch::jit::Node *node);
    const ReceptiveField *fieldOf(torch::jit::Value *value) const;
    /// True when every map in a list (built by ListConstruct or grown by append) has the same field.
    bool sameFields(torch::jit::Value *list) const;
    /// The list a value refers to, through casts.
    static torch::jit::Value *listOrigin(torch::jit::Value *list);
    ReceptiveField unionOfInputs(torch::jit::Node *node) const;
    void setOutputs(torch::jit::Node *node, const ReceptiveField &field);
    ReceptiveField window(const ReceptiveField &in, const std::vector<std::int64_t> &kernel,
                          const std::vector<std::int64_t> &stride, const std::vector<std::int64_t> &padding,
                          const std::vector<std::int64_t> &dilation, bool ceilMode = false) const;
    ReceptiveField unknown(const std::string &why) const;
    std::vector<std::int64_t> kernelOfWeight(torch::jit::Value *weight) const;

    const torch::jit::Module &root_;
    const ProbeGraph &graph_;
    const std::int64_t height_, width_;
    std::shared_ptr<torch::jit::Graph> work_; ///< the analysed copy
    std::unordered_map<torch::jit::Value *, ReceptiveField> fields_;
    std::unordered_map<torch::jit::Value *, std::vector<ReceptiveField>> listItems_; ///< items appended to lists
};

} // namespace convscope
