#pragma once
// One TorchScript function body being written from ONNX nodes: forward() of an imported module, or the throw-away
// function that folds a node at load time. It binds graph values to variables, turns constants into buffers and
// weights into parameters of its module, and compiles the result (compile()).
#include "import/OnnxEmitContext.h"
#include "import/OnnxGraphState.h"

#include <torch/script.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace convscope {

class OnnxFunctionContext : public OnnxEmitContext {
public:
    OnnxFunctionContext(torch::jit::Module module, const OnnxGraphState &state)
        : module_(std::move(module)), state_(state)
    {
    }

    /// A new module of type __torch__.convscope_onnx.<type> in `cu`, with the `training` attribute every module needs.
    static torch::jit::Module newModule(const std::shared_ptr<torch::jit::CompilationUnit> &cu, const std::string &type);
    /// Compiles `source` into `module`; a compile error becomes UnsupportedModelError naming `node` (or the graph).
    /// With CONVSCOPE_ONNX_DEBUG set, every source is printed to stderr.
    static void compile(torch::jit::Module &module, const std::string &source, const onnx::NodeProto *node);
    /// `name` with the characters TorchScript attribute names cannot hold ('.', '/', ':', ' ') replaced by '_'.
    static std::string sanitize(const std::string &name);
    /// Whether `s` can be written as self.<s> (else getattr(self, "<s>")).
    static bool isIdentifier(const std::string &s);

    /// Starts emitting `node`.
    void begin(const onnx::NodeProto &node) { setNode(&node, state_.opset); }
    /// Binds a graph value to a new argument and returns the argument's name.
    std::string bindArgument(const std::string &value);
    /// A Tensor expression for a graph value: its variable, or a constant as a buffer.
    std::string valueExpression(const std::string &value);
    /// Binds a graph value to a new variable (the outputs of a submodule call).
    std::string bindVariable(const std::string &value);
    /// Appends a line to the body.
    void addLine(const std::string &code) { lines_.push_back(code); }
    /// The function's source; `tuple` returns a tuple even for one value.
    std::string source(const std::vector<std::string> &returned, bool tuple = false) const;
    const torch::jit::Module &module() const { return module_; }

    // --- OnnxEmitContext ---
    std::optional<torch::Tensor> constant(int i) const override;
    std::string tensor(int i) override;
    std::string parameter(int i, const std::string &name, const torch::Tensor &value) override;
    std::vector<std::int64_t> shape(int i) const override;
    int elementType(int i) const override;
    std::int64_t exportedBatch() const override { return state_.exportedBatch; }
    std::string output(int o) override;
    void line(const std::string &code) override { lines_.push_back(code); }
    std::string temporary() override { return "t" + std::to_string(counter_++); }

private:
    const OnnxValueInfo *info(int i) const;
    std::string buffer(const std::string &value, const torch::Tensor &t);

    torch::jit::Module module_;
    const OnnxGraphState &state_;
    std::vector<std::string> args_, lines_;
    std::map<std::string, std::string> vars_, buffers_, params_;
    int counter_ = 0;
};

} // namespace convscope
