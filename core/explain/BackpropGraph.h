#pragma once
// A differentiable copy of a model's probe graph for one BackpropRule: returns chosen captured values (and the
// model's output if asked), with every covered rectifier swapped for its RectifierRules operator. Everything the
// chosen outputs do not need is removed, so projecting a layer-2 unit does not run layers 3..n.
//
// Runs under autograd in TorchScript's simple executor (no profiling, no autodiff subgraphs), so the backward pass
// is ATen's own, op for op — the same arithmetic as an eager PyTorch model.
#include "explain/BackpropRule.h"
#include "model/ProbeGraphBuilder.h"

#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

namespace torch::jit {
struct GraphFunction;
}

namespace convscope {

class BackpropGraph {
public:
    /// `outputs` are indices into probe.graph's outputs (ModuleCall::output, >= 1); with `keepModelOutput` the
    /// model's output comes first in run()'s result. Throws UnsupportedModelError if the graph cannot be built.
    BackpropGraph(const ProbeGraph &probe, const std::vector<int> &outputs, bool keepModelOutput, BackpropRule rule);
    ~BackpropGraph();
    BackpropGraph(const BackpropGraph &) = delete;
    BackpropGraph &operator=(const BackpropGraph &) = delete;

    /// Forward with autograd recording: [model output if kept], then the captures in `outputs` order. `input`
    /// should require grad. Throws UnsupportedModelError with PyTorch's first line when the model rejects it.
    std::vector<c10::IValue> run(const torch::jit::Module &module, const torch::Tensor &input) const;

    /// Activations on the path to the outputs that the rule does not cover and that keep their ordinary gradient,
    /// e.g. "SiLU (16 calls)". Empty for BackpropRule::Gradient.
    const std::vector<std::string> &uncovered() const { return uncovered_; }
    /// The rewritten graph (diagnostics).
    std::shared_ptr<torch::jit::Graph> graph() const;
    /// Number of rectifiers swapped for the rule.
    int swapped() const { return swapped_; }

private:
    std::unique_ptr<torch::jit::GraphFunction> function_;
    std::vector<std::string> uncovered_;
    int swapped_ = 0;
};

} // namespace convscope
