#pragma once
// ONNX's operator schemas, with the shape inference of the convolution operators guarded. libonnx 1.12's
// convolution shape inference (Conv, ConvInteger, QLinearConv, ConvTranspose) reads past the end of the input's or
// the weight's dimension list when the two disagree with each other or with the node's attributes (a rank-2 input
// with a 4-d weight, a 2-d weight, four pads on a 1-d convolution): a damaged file crashed the app (found by
// tests/fuzz/fuzz_onnx_model). Here those operators first check that the ranks agree and otherwise report a shape
// inference error, which leaves the shapes unknown like any other failed inference; the importer then says what is
// wrong when it emits the node. Every other schema is ONNX's own.
#include <onnx/defs/schema.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace convscope {

class OnnxCheckedSchemaRegistry : public onnx::ISchemaRegistry {
public:
    /// The process-wide registry (thread-safe).
    static const OnnxCheckedSchemaRegistry &instance();

    const onnx::OpSchema *GetSchema(const std::string &key, const int maxInclusiveVersion,
                                    const std::string &domain) const override;

    /// Why a convolution node's input ranks and attributes cannot go together, or empty when they can (or are not
    /// known yet). `op` is the node's type; for the check ONNX's inference context is enough.
    static std::string convolutionMismatch(const std::string &op, onnx::InferenceContext &ctx);

private:
    OnnxCheckedSchemaRegistry() = default;
    mutable std::mutex mutex_;
    mutable std::map<const onnx::OpSchema *, std::unique_ptr<onnx::OpSchema>> guarded_;
};

} // namespace convscope
