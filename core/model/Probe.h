#pragma once
// Probe: one forward pass that returns the outputs of any chosen set of module calls, exactly as PyTorch forward
// hooks would see them (see ProbeGraphBuilder for how). Works for scripted and traced modules.
//
// Thread safety: run() may be called from several threads at once (each call has its own stack); the per-selection
// graph cache is guarded by a mutex. The module passed in is shared (TorchScript modules are reference types) and is
// never modified.
#include "model/ProbeGraphBuilder.h"

#include <torch/script.h>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace torch::jit {
struct GraphFunction;
}

namespace convscope {

class Probe {
public:
    /// Builds the capture graph for `module` (which must be in eval mode). Throws UnsupportedModelError.
    explicit Probe(torch::jit::Module module);
    ~Probe();
    Probe(const Probe &) = delete;
    Probe &operator=(const Probe &) = delete;

    /// Module calls in forward (hook) order.
    const std::vector<ModuleCall> &calls() const { return graph_.calls; }

    struct Output {
        c10::IValue modelOutput;             ///< what forward() returns
        std::vector<torch::Tensor> captured; ///< aligned with the `which` argument of run()
    };

    /// One forward pass on `input` (N×C×H×W) returning the outputs of the calls at indices `which` (into calls()).
    /// Tensors not selected are freed as early as in a plain forward. Runs without autograd.
    /// Throws UsageError for an index out of range or a call that cannot be captured, and UnsupportedModelError
    /// (with the first line of PyTorch's message) when the model rejects the input.
    Output run(const torch::Tensor &input, const std::vector<int> &which) const;

    /// Like run(), and for the calls in `reduced` (whose outputs must be N×C×H×W maps) returns per (image,
    /// channel) statistics instead of the maps — computed inside the graph right where the map is made, so the
    /// map is freed as early as in a plain forward. Aligned with `reduced`.
    struct Reduced {
        torch::Tensor max;    ///< N×C float32
        torch::Tensor argmax; ///< N×C int64, flat position (y·W + x) of the first maximum
        torch::Tensor mean;   ///< N×C float32 (see ChannelStatistics)
    };
    Output run(const torch::Tensor &input, const std::vector<int> &which, const std::vector<int> &reduced,
               std::vector<Reduced> &statistics) const;

    /// Indices of every capturable call.
    std::vector<int> capturable() const;

    /// The rewritten graph (for diagnostics: `convscope info --graph`).
    std::shared_ptr<torch::jit::Graph> graph() const { return graph_.graph; }
    /// The rewritten graph with its call table (for analyses such as receptive fields).
    const ProbeGraph &probeGraph() const { return graph_; }

private:
    struct Variant;
    const Variant &variantFor(const std::vector<int> &outputs, const std::vector<int> &reduced = {}) const;
    std::vector<int> outputsOf(const std::vector<int> &which) const;

    torch::jit::Module module_;
    ProbeGraph graph_;
    mutable std::mutex mutex_;
    mutable std::map<std::pair<std::vector<int>, std::vector<int>>, std::unique_ptr<Variant>> variants_;
};

} // namespace convscope
