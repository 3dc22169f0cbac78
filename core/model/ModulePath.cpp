#include "model/ModulePath.h"

namespace convscope {

std::optional<torch::jit::Module> ModulePath::find(const torch::jit::Module &root, const std::string &path)
{
    torch::jit::Module m = root;
    size_t start = 0;
    while (start < path.size()) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!m.hasattr(part))
            return std::nullopt;
        c10::IValue v = m.attr(part);
        if (!v.isModule())
            return std::nullopt;
        m = v.toModule();
        if (dot == std::string::npos)
            break;
        start = dot + 1;
    }
    return m;
}

std::string ModulePath::join(const std::string &parent, const std::string &name)
{
    return parent.empty() ? name : parent + "." + name;
}

std::int64_t ModulePath::parameterCount(const torch::jit::Module &module)
{
    std::int64_t n = 0;
    for (const auto &p : module.parameters(/*recurse=*/true))
        n += p.numel();
    return n;
}

torch::Tensor ModulePath::tensorAttribute(const torch::jit::Module &module, const std::string &name)
{
    if (!module.hasattr(name))
        return {};
    c10::IValue v = module.attr(name);
    return v.isTensor() ? v.toTensor() : torch::Tensor();
}

} // namespace convscope
