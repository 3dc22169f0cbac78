#pragma once
// CaptureProtection: makes the captured outputs of a probe graph hold what a forward hook would see when its call
// returns, although the model may later overwrite them in place (`relu_`, `add_`, `hardtanh_`...).
//
// Outputs 1..n of the graph are the captures; `ends` gives, per output, the marker node where its call returns.
// An in-place op that writes to a captured value is replaced by its out-of-place variant where that is provably
// safe (the mutated value is used afterwards only through itself or the op's result); otherwise the captured value
// is cloned at its call's end marker. Only the graph's current outputs are protected, so a graph that returns few
// captures keeps the rest of the model's in-place ops (and their speed).
#include <torch/script.h>

#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace convscope {

class CaptureProtection {
public:
    /// `ends`: graph output index -> its call's end marker (a node of `graph`'s top block). Outputs without a
    /// marker are treated as returning at the end of the graph.
    CaptureProtection(std::shared_ptr<torch::jit::Graph> graph, std::unordered_map<size_t, torch::jit::Node *> ends);

    /// A copy of `graph` with `ends` (markers in its top block) found again in the copy, by position.
    static std::shared_ptr<torch::jit::Graph> copy(torch::jit::Graph &graph,
                                                   const std::unordered_map<size_t, torch::jit::Node *> &ends,
                                                   std::unordered_map<size_t, torch::jit::Node *> &copiedEnds);

    /// Rewrites the graph. Throws UnsupportedModelError when it has too many in-place ops to protect.
    void run();

private:
    bool functionalize(torch::jit::Node *node, const std::vector<torch::jit::Value *> &aliases);
    void cloneCaptured(const std::vector<int> &outputs);
    bool capturedLater(size_t output, torch::jit::Node *node) const;

    std::shared_ptr<torch::jit::Graph> graph_;
    std::unordered_map<size_t, torch::jit::Node *> ends_;
};

} // namespace convscope
