#pragma once
// Rewrites a TorchScript module's forward graph into one graph that returns the model's output AND the output of
// every module call, as PyTorch forward hooks would see them at the moment the call returns.
//
// How: the root forward graph is copied and every prim::CallMethod is inlined recursively. Before a callee is
// inlined, its reads of non-tensor module attributes (`training`, `inplace`, `aux_logits`...) are replaced by
// constants of the loaded (eval-mode) instance and constant `prim::If` branches are folded, so module calls guarded
// by attributes become straight-line code. Each inlined call of a submodule's forward records its output value and
// its place in the call tree (calls repeated on one module are told apart). In-place ops that would overwrite a
// captured value (`relu_`, `add_`, `hardtanh_`...) are replaced by their out-of-place variants; where that is not
// provably safe, the captured value is cloned instead (CaptureProtection). The graph before that step is kept too,
// so that a probe variant returning few captures protects only those. The module itself is never modified.
#include "model/LayerInfo.h"

#include <torch/script.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace convscope {

/// A module call found in the graph, in forward (hook) order.
struct ModuleCall {
    std::string modulePath; ///< "layer1.0.relu"; "?" when the module cannot be named statically
    std::string type;       ///< demangled class name
    int parent = -1;        ///< index of the enclosing call, -1 for top level
    int depth = 0;
    bool hasChildren = false;
    int output = -1;        ///< index into the graph's outputs (>= 1), or -1 when not capturable
    std::string whyNot;     ///< reason when output == -1
};

/// Result of the rewrite. `graph` takes (self, inputs...) like the original forward and returns
/// (original output, captured values...). `calls[i].output` indexes those outputs.
struct ProbeGraph {
    std::shared_ptr<torch::jit::Graph> graph; ///< every capture protected (CaptureProtection)
    std::vector<ModuleCall> calls;
    /// The same graph before protection, with the model's in-place ops, and for each captured output the marker
    /// node (in its top block) where the call returns: what a variant returning only some captures starts from.
    std::shared_ptr<torch::jit::Graph> unprotected;
    std::unordered_map<size_t, torch::jit::Node *> ends;
};

class ProbeGraphBuilder {
public:
    /// `root` must be in eval mode. Throws UnsupportedModelError when the graph cannot be rewritten.
    explicit ProbeGraphBuilder(torch::jit::Module root);
    ProbeGraph build();

private:
    static void inlineFunctionCalls(torch::jit::Graph &graph);
    void foldModuleAttributes(std::shared_ptr<torch::jit::Graph> &graph, const std::string &selfPath);
    void inlineCall(torch::jit::Node *call);
    void registerOutputs();
    torch::jit::Node *nextCall();

    torch::jit::Module root_;
    std::shared_ptr<torch::jit::Graph> graph_;
    struct RawCall {
        std::string modulePath;
        std::string type;
        int parent = -1;
        std::vector<int> children;
        torch::jit::Value *value = nullptr;
        torch::jit::Node *end = nullptr; ///< marker where the call returns: the moment its hook would fire
        std::string whyNot;
    };
    std::vector<RawCall> raw_;
    // For every prim::CallMethod still in the graph: the module path of the method it was written in, and the
    // module call that contains it (-1 = the root forward).
    struct CallSite {
        std::string selfPath;
        int owner = -1;
    };
    std::unordered_map<torch::jit::Node *, CallSite> sites_;
    std::unordered_set<torch::jit::Node *> opaque_; // calls left as they are (interfaces, unknown types)
    std::unordered_set<std::string> mutatedAttributes_;
    std::vector<int> order_; // raw_ indices in hook order
    std::unordered_map<size_t, torch::jit::Node *> outputEnd_; // graph output index -> its call's end marker
};

} // namespace convscope
