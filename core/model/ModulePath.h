#pragma once
// Navigating a TorchScript module tree by dotted path ("layer1.0.conv1").
#include <torch/script.h>

#include <optional>
#include <string>

namespace convscope {

class ModulePath {
public:
    /// The submodule at `path` ("" = root), or nullopt when a part is missing or not a module.
    static std::optional<torch::jit::Module> find(const torch::jit::Module &root, const std::string &path);
    /// "a" + "b" -> "a.b"; "" + "b" -> "b".
    static std::string join(const std::string &parent, const std::string &name);
    /// Number of parameters of `module` and all its submodules.
    static std::int64_t parameterCount(const torch::jit::Module &module);
    /// The module's own tensor attribute `name` ("weight"), or an undefined tensor.
    static torch::Tensor tensorAttribute(const torch::jit::Module &module, const std::string &name);
};

} // namespace convscope
