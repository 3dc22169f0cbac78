#include "explain/BackpropRule.h"

#include "common/EnumNames.h"
#include "common/Error.h"

namespace convscope {

namespace {

constexpr EnumName<BackpropRule> kRules[] = {
    {BackpropRule::Gradient, "gradient"},         {BackpropRule::Deconvnet, "deconvnet"},
    {BackpropRule::Guided, "guided"},             {BackpropRule::Gradient, "grad"},
    {BackpropRule::Deconvnet, "deconv"},          {BackpropRule::Guided, "guided-backprop"},
    {BackpropRule::Guided, "guided_backprop"},
};

} // namespace

const char *backpropRuleName(BackpropRule rule)
{
    if (rule == BackpropRule::Leaky) // internal (the synthesiser's escape): named, but not a method users choose
        return "leaky";
    return nameOf(kRules, rule);
}

const char *backpropRuleLabel(BackpropRule rule)
{
    switch (rule) {
    case BackpropRule::Gradient: return "Gradient";
    case BackpropRule::Deconvnet: return "Deconvnet";
    case BackpropRule::Guided: return "Guided backprop";
    case BackpropRule::Leaky: return "Leaky gradient";
    }
    return "Gradient";
}

BackpropRule parseBackpropRule(const std::string &name)
{
    return parseName(kRules, name, "method");
}

} // namespace convscope
