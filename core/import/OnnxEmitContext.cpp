#include "import/OnnxEmitContext.h"

#include "common/Error.h"

#include <cmath>
#include <sstream>

namespace convscope {

const onnx::AttributeProto *OnnxEmitContext::attribute(const std::string &name) const
{
    for (const auto &a : node_->attribute())
        if (a.name() == name)
            return &a;
    return nullptr;
}

std::int64_t OnnxEmitContext::getInt(const std::string &name, std::int64_t fallback) const
{
    const auto *a = attribute(name);
    return a ? a->i() : fallback;
}

float OnnxEmitContext::getFloat(const std::string &name, float fallback) const
{
    const auto *a = attribute(name);
    return a ? a->f() : fallback;
}

std::string OnnxEmitContext::getString(const std::string &name, const std::string &fallback) const
{
    const auto *a = attribute(name);
    return a ? a->s() : fallback;
}

std::vector<std::int64_t> OnnxEmitContext::getInts(const std::string &name,
                                                   const std::vector<std::int64_t> &fallback) const
{
    const auto *a = attribute(name);
    return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : fallback;
}

std::vector<float> OnnxEmitContext::getFloats(const std::string &name) const
{
    const auto *a = attribute(name);
    return a ? std::vector<float>(a->floats().begin(), a->floats().end()) : std::vector<float>{};
}

std::optional<std::vector<std::int64_t>> OnnxEmitContext::constantInts(int i) const
{
    if (!has(i))
        return std::nullopt;
    auto c = constant(i);
    if (!c)
        unsupported("input " + std::to_string(i) + " ('" + node_->input(i) +
                    "') is computed at run time; Convscope needs it fixed when the model is loaded");
    torch::Tensor t = c->to(torch::kLong).contiguous().reshape({-1});
    return std::vector<std::int64_t>(t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel());
}

std::string OnnxEmitContext::scalarOrTensor(int i)
{
    auto c = constant(i);
    if (c && c->numel() == 1 && c->dim() == 0) {
        std::ostringstream s;
        s.precision(9);
        if (c->is_floating_point()) {
            const double v = c->item<double>();
            if (std::isfinite(v)) {
                s << v;
                std::string text = s.str();
                if (text.find_first_of(".e") == std::string::npos)
                    text += ".";
                return text;
            }
        } else if (c->scalar_type() == torch::kLong || c->scalar_type() == torch::kInt) {
            s << c->item<std::int64_t>();
            return s.str();
        }
    }
    return tensor(i);
}

void OnnxEmitContext::unsupported(const std::string &why) const
{
    throw UnsupportedModelError(node_->op_type() + " node '" + node_->name() + "': " + why);
}

} // namespace convscope
