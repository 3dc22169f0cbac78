#pragma once
// What an ONNX operator sees while it is turned into TorchScript source (see OnnxOperators): its node's attributes,
// its inputs as expressions (a variable, or a constant registered on the module), their inferred shapes, and a way to
// register weights as the module's parameters. The importer implements the value and module parts; the attribute
// helpers are here.
#include <onnx/onnx_pb.h>
#include <torch/types.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace convscope {

class OnnxEmitContext {
public:
    virtual ~OnnxEmitContext() = default;

    const onnx::NodeProto &node() const { return *node_; }
    int opset() const { return opset_; }

    // --- inputs and outputs -------------------------------------------------------------------------------------
    /// Number of inputs (including empty optional ones).
    int inputCount() const { return node_->input_size(); }
    /// Whether input `i` is present (optional inputs may be missing or named "").
    bool has(int i) const { return i < node_->input_size() && !node_->input(i).empty(); }
    /// The value of input `i` when it is known at import time (an initializer or a folded computation).
    virtual std::optional<torch::Tensor> constant(int i) const = 0;
    /// A TorchScript expression of type Tensor for input `i` (a constant becomes a buffer of the module).
    virtual std::string tensor(int i) = 0;
    /// For element-wise arithmetic: a literal when input `i` is a one-element constant, else tensor(i).
    std::string scalarOrTensor(int i);
    /// Registers input `i` (which must be constant) as the parameter `name` of the module, after `transform`
    /// (e.g. a transpose), and returns "self.name".
    virtual std::string parameter(int i, const std::string &name, const torch::Tensor &value) = 0;
    /// The static shape of input `i` as inferred at import time (dim 0 is the batch); throws
    /// UnsupportedModelError naming the node when it is unknown.
    virtual std::vector<std::int64_t> shape(int i) const = 0;
    /// ONNX element type of input `i` (TensorProto::DataType) when known, else 0.
    virtual int elementType(int i) const = 0;
    /// The batch size the graph's input declares when it is fixed (1 for most fixed-size exports), else 0. Reshape
    /// targets that copy it are read as "keep the batch", so that any batch size runs.
    virtual std::int64_t exportedBatch() const = 0;
    /// Variable name for output `o` (empty when the output is unused or absent).
    virtual std::string output(int o) = 0;
    /// Number of outputs the node declares.
    int outputCount() const { return node_->output_size(); }
    /// Appends a line of the function body (without indentation).
    virtual void line(const std::string &code) = 0;
    /// A fresh local variable name.
    virtual std::string temporary() = 0;

    // --- attributes ---------------------------------------------------------------------------------------------
    const onnx::AttributeProto *attribute(const std::string &name) const;
    std::int64_t getInt(const std::string &name, std::int64_t fallback) const;
    float getFloat(const std::string &name, float fallback) const;
    std::string getString(const std::string &name, const std::string &fallback) const;
    std::vector<std::int64_t> getInts(const std::string &name, const std::vector<std::int64_t> &fallback = {}) const;
    std::vector<float> getFloats(const std::string &name) const;
    /// In a constant shape list: "the batch size the model runs at" (the importer folds Shape(x)[0] to it).
    static constexpr std::int64_t batchEntry = std::numeric_limits<std::int64_t>::min();
    /// The int64 values of a constant input (e.g. Reshape's shape, opset-13 axes), or nullopt when absent.
    std::optional<std::vector<std::int64_t>> constantInts(int i) const;

    /// Throws UnsupportedModelError: "<op> node '<name>': <why>".
    [[noreturn]] void unsupported(const std::string &why) const;

protected:
    void setNode(const onnx::NodeProto *node, int opset) { node_ = node; opset_ = opset; }

private:
    const onnx::NodeProto *node_ = nullptr;
    int opset_ = 0;
};

} // namespace convscope
