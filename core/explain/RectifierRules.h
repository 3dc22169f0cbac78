#pragma once
// Custom TorchScript operators that compute a rectifier forward exactly like ATen and apply a BackpropRule on the
// way back. BackpropGraph substitutes them for aten::relu/relu_, hardtanh/hardtanh_/relu6 and leaky_relu/leaky_relu_
// in a model's graph, so deconvnet and guided backprop run through the model's own graph for any architecture.
//
//   convscope::relu_rule(Tensor self, int rule) -> Tensor                 (+ in-place relu_rule_)
//   convscope::hardtanh_rule(Tensor self, Scalar min_val, Scalar max_val, int rule) -> Tensor   (+ hardtanh_rule_)
//   convscope::leaky_relu_rule(Tensor self, Scalar negative_slope, int rule) -> Tensor          (+ leaky_relu_rule_)
//
// `rule` is an int of BackpropRule. Backward (g = incoming gradient, f' from the saved output):
//   Gradient: g·f'   Deconvnet: max(g, 0)   Guided: max(g, 0)·f'   Leaky: g·max(f', 0.1)
// The operators are registered at run time by ensureRegistered() (not by a static initialiser, which a static
// library would drop when nothing else in its object file is referenced).
namespace convscope {

class RectifierRules {
public:
    /// Registers the operators once per process (thread-safe, idempotent).
    static void ensureRegistered();
};

} // namespace convscope
