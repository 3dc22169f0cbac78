#include "explain/RectifierRules.h"

#include "explain/BackpropRule.h"

#include <torch/library.h>
#include <torch/torch.h>

#include <mutex>

namespace convscope {

namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

enum class Kind : int64_t { Relu = 0, Hardtanh = 1, Leaky = 2 };

/// The rectifier's derivative as a mask computed from its output (valid for in-place calls too: the output
/// carries the same sign information as the input).
constexpr double kLeak = 0.1; ///< BackpropRule::Leaky: the share of the gradient an off rectifier passes

Tensor derivativeFromOutput(const Tensor &out, Kind kind, double a, double b)
{
    switch (kind) {
    case Kind::Relu: return (out > 0).to(out.scalar_type());
    case Kind::Hardtanh: return ((out > a) & (out < b)).to(out.scalar_type());
    case Kind::Leaky: return torch::where(out > 0, torch::ones_like(out), torch::full_like(out, a));
    }
    return torch::ones_like(out);
}

Tensor forwardOf(const Tensor &x, Kind kind, double a, double b, bool inPlace)
{
    switch (kind) {
    case Kind::Relu: return inPlace ? x.relu_() : x.relu();
    case Kind::Hardtanh: return inPlace ? at::hardtanh_(const_cast<Tensor &>(x), a, b) : at::hardtanh(x, a, b);
    case Kind::Leaky: return inPlace ? at::leaky_relu_(const_cast<Tensor &>(x), a) : at::leaky_relu(x, a);
    }
    return x;
}

struct Rectifier : public torch::autograd::Function<Rectifier> {
    static Tensor forward(AutogradContext *ctx, Tensor x, int64_t kind, double a, double b, int64_t rule,
                          bool inPlace)
    {
        Tensor out = forwardOf(x, static_cast<Kind>(kind), a, b, inPlace);
        if (inPlace)
            ctx->mark_dirty({x});
        ctx->save_for_backward({out});
        ctx->saved_data["kind"] = kind;
        ctx->saved_data["a"] = a;
        ctx->saved_data["b"] = b;
        ctx->saved_data["rule"] = rule;
        return out;
    }

    static tensor_list backward(AutogradContext *ctx, tensor_list grads)
    {
        const Tensor out = ctx->get_saved_variables().at(0);
        const auto kind = static_cast<Kind>(ctx->saved_data["kind"].toInt());
        const double a = ctx->saved_data["a"].toDouble();
        const double b = ctx->saved_data["b"].toDouble();
        const auto rule = static_cast<BackpropRule>(ctx->saved_data["rule"].toInt());
        const Tensor &g = grads.at(0);
        Tensor in;
        switch (rule) {
        case BackpropRule::Gradient: in = g * derivativeFromOutput(out, kind, a, b); break;
        case BackpropRule::Deconvnet: in = g.clamp_min(0); break;
        case BackpropRule::Guided: in = g.clamp_min(0) * derivativeFromOutput(out, kind, a, b); break;
        case BackpropRule::Leaky: in = g * derivativeFromOutput(out, kind, a, b).clamp_min(kLeak); break;
        }
        return {in, Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
    }
};

Tensor reluRule(const Tensor &x, int64_t rule)
{
    return Rectifier::apply(x, static_cast<int64_t>(Kind::Relu), 0.0, 0.0, rule, false);
}
Tensor &reluRuleInPlace(Tensor &x, int64_t rule)
{
    Rectifier::apply(x, static_cast<int64_t>(Kind::Relu), 0.0, 0.0, rule, true);
    return x;
}
Tensor hardtanhRule(const Tensor &x, const at::Scalar &lo, const at::Scalar &hi, int64_t rule)
{
    return Rectifier::apply(x, static_cast<int64_t>(Kind::Hardtanh), lo.toDouble(), hi.toDouble(), rule, false);
}
Tensor &hardtanhRuleInPlace(Tensor &x, const at::Scalar &lo, const at::Scalar &hi, int64_t rule)
{
    Rectifier::apply(x, static_cast<int64_t>(Kind::Hardtanh), lo.toDouble(), hi.toDouble(), rule, true);
    return x;
}
Tensor leakyRule(const Tensor &x, const at::Scalar &slope, int64_t rule)
{
    return Rectifier::apply(x, static_cast<int64_t>(Kind::Leaky), slope.toDouble(), 0.0, rule, false);
}
Tensor &leakyRuleInPlace(Tensor &x, const at::Scalar &slope, int64_t rule)
{
    Rectifier::apply(x, static_cast<int64_t>(Kind::Leaky), slope.toDouble(), 0.0, rule, true);
    return x;
}

} // namespace

void RectifierRules::ensureRegistered()
{
    static std::once_flag once;
    std::call_once(once, [] {
        // Never destroyed: operators stay registered for the life of the process (a static pointer, so it stays
        // reachable and LeakSanitizer does not count it; a static object's destructor would run at exit, in an
        // order against LibTorch's own statics that nothing guarantees).
        static auto *lib = new torch::Library(torch::Library::DEF, "convscope", c10::nullopt, __FILE__, __LINE__);
        lib->def("relu_rule(Tensor self, int rule) -> Tensor", &reluRule);
        lib->def("relu_rule_(Tensor(a!) self, int rule) -> Tensor(a!)", &reluRuleInPlace);
        lib->def("hardtanh_rule(Tensor self, Scalar min_val, Scalar max_val, int rule) -> Tensor", &hardtanhRule);
        lib->def("hardtanh_rule_(Tensor(a!) self, Scalar min_val, Scalar max_val, int rule) -> Tensor(a!)",
                 &hardtanhRuleInPlace);
        lib->def("leaky_relu_rule(Tensor self, Scalar negative_slope, int rule) -> Tensor", &leakyRule);
        lib->def("leaky_relu_rule_(Tensor(a!) self, Scalar negative_slope, int rule) -> Tensor(a!)",
                 &leakyRuleInPlace);
    });
}

} // namespace convscope
