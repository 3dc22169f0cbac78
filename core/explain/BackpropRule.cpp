#include "explain/BackpropRule.h"

#include "common/Error.h"

namespace convscope {

const char *backpropRuleName(BackpropRule rule)
{
    switch (rule) {
    case BackpropRule::Gradient: return "gradient";
    case BackpropRule::Deconvnet: return "deconvnet";
    case BackpropRule::Guided: return "guided";
    }
    return "gradient";
}

const char *backpropRuleLabel(BackpropRule rule)
{
    switch (rule) {
    case BackpropRule::Gradient: return "Gradient";
    case BackpropRule::Deconvnet: return "Deconvnet";
    case BackpropRule::Guided: return "Guided backprop";
    }
    return "Gradient";
}

BackpropRule parseBackpropRule(const std::string &name)
{
    if (name == "gradient" || name == "grad")
        return BackpropRule::Gradient;
    if (name == "deconvnet" || name == "deconv")
        return BackpropRule::Deconvnet;
    if (name == "guided" || name == "guided-backprop" || name == "guided_backprop")
        return BackpropRule::Guided;
    throw UsageError("unknown method '" + name + "': choose gradient, deconvnet or guided");
}

} // namespace convscope
