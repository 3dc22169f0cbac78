#include "import/OnnxFunctionContext.h"

#include "common/Error.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace convscope {

torch::jit::Module OnnxFunctionContext::newModule(const std::shared_ptr<torch::jit::CompilationUnit> &cu,
                                                  const std::string &type)
{
    torch::jit::Module m(c10::QualifiedName("__torch__.convscope_onnx." + sanitize(type)), cu, true);
    m.register_attribute("training", c10::BoolType::get(), false);
    return m;
}

void OnnxFunctionContext::compile(torch::jit::Module &m, const std::string &source, const onnx::NodeProto *node)
{
    if (std::getenv("CONVSCOPE_ONNX_DEBUG"))
        std::fprintf(stderr, "define %s\n%s", m.type()->name()->qualifiedName().c_str(), source.c_str());
    try {
        m.define(source);
    } catch (const std::exception &e) {
        if (std::getenv("CONVSCOPE_ONNX_DEBUG"))
            std::fprintf(stderr, "%s\n--- while compiling ---\n%s\n", e.what(), source.c_str());
        std::string what = e.what();
        const auto start = what.find_first_not_of(" \n");
        what = start == std::string::npos ? what : what.substr(start);
        what = what.substr(0, what.find('\n'));
        throw UnsupportedModelError(std::string("cannot translate ") +
                                    (node ? node->op_type() + " node '" + node->name() + "'" : "the ONNX graph") +
                                    " into TorchScript: " + what);
    }
}

std::string OnnxFunctionContext::sanitize(const std::string &name)
{
    std::string s = name;
    for (char &c : s)
        if (c == '.' || c == '/' || c == ':' || c == ' ')
            c = '_';
    return s.empty() ? std::string("_") : s;
}

bool OnnxFunctionContext::isIdentifier(const std::string &s)
{
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string OnnxFunctionContext::bindArgument(const std::string &value)
{
    const std::string name = "x" + std::to_string(args_.size());
    args_.push_back(name);
    vars_[value] = name;
    return name;
}

std::string OnnxFunctionContext::valueExpression(const std::string &value)
{
    auto it = vars_.find(value);
    if (it != vars_.end())
        return it->second;
    auto c = state_.constants->find(value);
    if (c != state_.constants->end())
        return buffer(value, c->second);
    throw UnsupportedModelError("the ONNX graph uses the value '" + value + "' before computing it");
}

std::string OnnxFunctionContext::bindVariable(const std::string &value)
{
    const std::string name = "v" + std::to_string(counter_++);
    vars_[value] = name;
    return name;
}

std::string OnnxFunctionContext::source(const std::vector<std::string> &returned, bool tuple) const
{
    std::string s = "def forward(self";
    for (const auto &a : args_)
        s += ", " + a + ": Tensor";
    s += "):\n";
    for (const auto &l : lines_)
        s += "    " + l + "\n";
    if (returned.size() == 1 && !tuple) {
        s += "    return " + returned[0] + "\n";
    } else {
        s += "    return (";
        for (size_t i = 0; i < returned.size(); ++i)
            s += (i ? ", " : "") + returned[i];
        s += (returned.size() == 1 ? ",)\n" : ")\n");
    }
    return s;
}

std::optional<torch::Tensor> OnnxFunctionContext::constant(int i) const
{
    if (!has(i))
        return std::nullopt;
    auto it = state_.constants->find(node().input(i));
    if (it == state_.constants->end())
        return std::nullopt;
    return it->second;
}

std::string OnnxFunctionContext::tensor(int i)
{
    if (!has(i))
        unsupported("input " + std::to_string(i) + " is missing");
    return valueExpression(node().input(i));
}

std::string OnnxFunctionContext::parameter(int i, const std::string &name, const torch::Tensor &value)
{
    const std::string key = node().input(i) + "\n" + name;
    auto it = params_.find(key);
    if (it != params_.end())
        return it->second;
    std::string attr = name;
    for (int k = 2; module_.hasattr(attr); ++k)
        attr = name + "_" + std::to_string(k);
    // Trainable as nn.Parameter (Grad-CAM differentiates through them); running statistics are not.
    const bool trainable = name.rfind("running_", 0) != 0;
    module_.register_parameter(attr, value.detach().requires_grad_(trainable), false); // shares the initializer
    return params_[key] = "self." + attr;
}

std::vector<std::int64_t> OnnxFunctionContext::shape(int i) const
{
    const OnnxValueInfo *v = info(i);
    if (!v || !v->known) {
        if (auto c = constant(i))
            return std::vector<std::int64_t>(c->sizes().begin(), c->sizes().end());
        unsupported("the shape of its input '" + node().input(i) +
                    "' is not known when the model is loaded (ONNX shape inference could not find it)");
    }
    return v->shape;
}

int OnnxFunctionContext::elementType(int i) const
{
    if (auto c = constant(i)) {
        switch (c->scalar_type()) {
        case torch::kLong: return onnx::TensorProto::INT64;
        case torch::kInt: return onnx::TensorProto::INT32;
        case torch::kShort: return onnx::TensorProto::INT16;
        case torch::kChar: return onnx::TensorProto::INT8;
        case torch::kByte: return onnx::TensorProto::UINT8;
        case torch::kBool: return onnx::TensorProto::BOOL;
        case torch::kDouble: return onnx::TensorProto::DOUBLE;
        case torch::kHalf: return onnx::TensorProto::FLOAT16;
        default: return onnx::TensorProto::FLOAT;
        }
    }
    const OnnxValueInfo *v = info(i);
    return v ? v->elementType : 0;
}

std::string OnnxFunctionContext::output(int o)
{
    if (o >= node().output_size() || node().output(o).empty())
        return {};
    const std::string &value = node().output(o);
    if (state_.needed && !state_.needed->count(value))
        return {};
    auto it = vars_.find(value);
    if (it != vars_.end())
        return it->second;
    return bindVariable(value);
}

const OnnxValueInfo *OnnxFunctionContext::info(int i) const
{
    if (!has(i))
        return nullptr;
    auto it = state_.infos->find(node().input(i));
    return it == state_.infos->end() ? nullptr : &it->second;
}

std::string OnnxFunctionContext::buffer(const std::string &value, const torch::Tensor &t)
{
    auto it = buffers_.find(value);
    if (it != buffers_.end())
        return it->second;
    std::string attr = "c" + std::to_string(buffers_.size());
    for (int k = 2; module_.hasattr(attr); ++k)
        attr = "c" + std::to_string(buffers_.size()) + "_" + std::to_string(k);
    module_.register_buffer(attr, t.clone());
    return buffers_[value] = "self." + attr;
}

} // namespace convscope
