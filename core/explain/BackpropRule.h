#pragma once
// How gradients pass back through a network's rectifiers when projecting a unit or a class score to the input.
//
//   Gradient   ordinary backpropagation (Simonyan et al. 2014): g_in = g_out · f'(x)
//   Deconvnet  Zeiler & Fergus 2014: the backward signal is rectified, the forward sign is ignored: g_in = max(g_out, 0)
//   Guided     guided backpropagation (Springenberg et al. 2015), both conditions: g_in = max(g_out, 0) · f'(x)
//   Leaky      the gradient with every rectifier leaking a tenth where it is off: g_in = g_out · max(f'(x), 0.1) —
//              a direction that raises a unit no input excites yet (UnitSynthesizer's escape from dead units)
//
// Rectifiers covered (see RectifierRules): ReLU (relu, relu_, threshold at 0), ReLU6/Hardtanh (f' = 1 strictly
// between the bounds) and LeakyReLU (f' = 1 above 0, the slope below). Smooth activations (SiLU, GELU, ELU,
// Hardswish, Mish, Softplus...) keep their ordinary gradient under every rule; BackpropGraph reports them.
// Max-pool switches come from autograd under every rule.
#include <string>
#include <vector>

namespace convscope {

enum class BackpropRule { Gradient = 0, Deconvnet = 1, Guided = 2, Leaky = 3 };

/// "gradient", "deconvnet", "guided", "leaky".
const char *backpropRuleName(BackpropRule rule);

/// Parses a rule users choose (gradient, deconvnet, guided; also "guided-backprop", "deconv", "grad" — not the internal
/// leaky rule); throws UsageError listing the choices.
BackpropRule parseBackpropRule(const std::string &name);

/// Human label ("Guided backprop").
const char *backpropRuleLabel(BackpropRule rule);

} // namespace convscope
