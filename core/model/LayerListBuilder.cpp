#include "model/LayerListBuilder.h"

#include "model/ModulePath.h"

#include <map>

namespace convscope {

LayerKind LayerListBuilder::kindOf(const std::string &type)
{
    auto has = [&](const char *s) { return type.find(s) != std::string::npos; };
    static const char *activations[] = {"ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU",
                                        "SiLU", "Sigmoid", "Tanh", "Hardswish", "Hardsigmoid", "Hardtanh",
                                        "Softmax", "LogSoftmax", "Mish", "Softplus", "Threshold",
                                        // ONNX operator names (imported models name their layers by op type)
                                        "Relu", "LeakyRelu", "PRelu", "Clip", "HardSigmoid", "HardSwish", "Elu",
                                        "Selu", "Softsign"};
    for (const char *a : activations)
        if (type == a)
            return LayerKind::Activation;
    if (has("Conv"))
        return LayerKind::Conv;
    if (has("Linear") || type == "Gemm" || type == "MatMul")
        return LayerKind::Linear;
    if (has("Pool"))
        return LayerKind::Pool;
    if (has("Norm") || type == "LRN")
        return LayerKind::Norm;
    return LayerKind::Other;
}

namespace {

std::string kernelString(const torch::Tensor &w)
{
    std::string s;
    for (int64_t d = 2; d < w.dim(); ++d)
        s += (d > 2 ? "x" : "") + std::to_string(w.size(d));
    return s;
}

/// Multiply-adds and cost category of a conv or linear call with weight `w` and output `out` (batch 1).
void leafCost(LayerInfo &row, const torch::jit::Module &module, const torch::Tensor &out)
{
    const torch::Tensor w = ModulePath::tensorAttribute(module, "weight");
    if (!w.defined() || !out.defined() || w.numel() == 0)
        return;
    if (row.kind == LayerKind::Conv && w.dim() >= 3) {
        const bool transposed = row.type.find("Transpose") != std::string::npos;
        // Conv: every output value costs (in/groups) × kernel multiply-adds. Transposed conv (weight is
        // in × out/groups × kernel): counted as in × kernel per output, an upper bound that ignores the stride.
        const int64_t kernel = w.numel() / (w.size(0) * w.size(1));
        const int64_t perOutput = transposed ? w.size(0) * kernel : w.size(1) * kernel;
        row.macs = out.numel() * perOutput;
        const std::string k = kernelString(w);
        // Depthwise: groups == input channels > 1. Scripted convs keep `groups`; traced ones only their weight,
        // where one input channel per filter after the first layer is the telling sign.
        const c10::IValue groups = module.hasattr("groups") ? module.attr("groups") : c10::IValue();
        const bool depthwise = !transposed && w.size(1) == 1 &&
                               (groups.isInt() ? groups.toInt() > 1 : row.index > 0 && w.size(0) > 1);
        row.category = std::string("Conv ") + (depthwise ? "dw " : "") + k;
    } else if (row.kind == LayerKind::Linear && w.dim() == 2) {
        row.macs = out.numel() * w.size(1);
        row.category = "Linear";
    }
}

} // namespace

std::vector<LayerInfo> LayerListBuilder::build(const torch::jit::Module &root, const Probe &probe,
                                               const std::vector<torch::Tensor> &captured,
                                               const ModelSidecar &sidecar)
{
    const auto &calls = probe.calls();
    std::map<std::string, int> totalCalls, seen;
    for (const auto &c : calls)
        ++totalCalls[c.modulePath];
    std::vector<LayerInfo> rows(calls.size());
    for (size_t i = 0; i < calls.size(); ++i) {
        const ModuleCall &c = calls[i];
        LayerInfo &row = rows[i];
        row.index = static_cast<int>(i);
        row.modulePath = c.modulePath;
        row.callNumber = totalCalls[c.modulePath] > 1 ? ++seen[c.modulePath] : 0;
        row.path = row.callNumber ? c.modulePath + "#" + std::to_string(row.callNumber) : c.modulePath;
        row.type = c.type;
        row.kind = c.hasChildren ? LayerKind::Block : kindOf(c.type);
        row.depth = c.depth;
        row.parent = c.parent;
        row.capturable = c.output >= 0;
        row.whyNot = c.whyNot;
        if (auto it = sidecar.layerNames.find(row.path); it != sidecar.layerNames.end())
            row.displayName = it->second;
        else if (auto it2 = sidecar.layerNames.find(row.modulePath); it2 != sidecar.layerNames.end())
            row.displayName = it2->second;
        const torch::Tensor out = i < captured.size() ? captured[i] : torch::Tensor();
        if (out.defined())
            row.outputShape = out.sizes().vec();
        if (auto m = ModulePath::find(root, c.modulePath)) {
            row.params = ModulePath::parameterCount(*m);
            if (row.kind == LayerKind::Conv || row.kind == LayerKind::Linear)
                leafCost(row, *m, out);
        }
        if (row.category.empty())
            row.category = row.kind == LayerKind::Block ? "" : row.type;
    }
    // Blocks add up the multiply-adds of the leaves they call (children come before their parent).
    for (auto &row : rows)
        if (row.kind != LayerKind::Block)
            for (int p = row.parent; p >= 0; p = rows[p].parent)
                rows[p].macs += row.macs;
    return rows;
}

} // namespace convscope
