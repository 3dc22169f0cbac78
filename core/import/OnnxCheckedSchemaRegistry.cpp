#include "import/OnnxCheckedSchemaRegistry.h"

#include <onnx/defs/shape_inference.h>

#include <set>

namespace convscope {

namespace {

/// Rank of input `i` when its type and shape are known, else -1.
int inputRank(onnx::InferenceContext &ctx, size_t i)
{
    if (i >= ctx.getNumInputs())
        return -1;
    const onnx::TypeProto *t = ctx.getInputType(i);
    if (!t || t->value_case() != onnx::TypeProto::kTensorType || !t->tensor_type().has_shape())
        return -1;
    return t->tensor_type().shape().dim_size();
}

/// Number of ints of attribute `name`, or -1 when the node does not have it.
int attributeLength(onnx::InferenceContext &ctx, const char *name)
{
    const onnx::AttributeProto *a = ctx.getAttribute(name);
    return a ? a->ints_size() : -1;
}

bool guardedOperator(const std::string &op)
{
    static const std::set<std::string> ops{"Conv", "ConvInteger", "QLinearConv", "ConvTranspose"};
    return ops.count(op) > 0;
}

} // namespace

const OnnxCheckedSchemaRegistry &OnnxCheckedSchemaRegistry::instance()
{
    static const OnnxCheckedSchemaRegistry registry;
    return registry;
}

std::string OnnxCheckedSchemaRegistry::convolutionMismatch(const std::string &op, onnx::InferenceContext &ctx)
{
    const int rank = inputRank(ctx, 0);
    const size_t weightInput = op == "QLinearConv" ? 3 : 1;
    const int weightRank = inputRank(ctx, weightInput);
    if (rank >= 0 && rank < 3)
        return op + " needs an input of rank 3 or more (N×C×spatial); this one has rank " + std::to_string(rank);
    if (weightRank >= 0 && weightRank < 3)
        return op + " needs a weight of rank 3 or more; this one has rank " + std::to_string(weightRank);
    if (rank >= 0 && weightRank >= 0 && rank != weightRank)
        return op + ": the input has rank " + std::to_string(rank) + " but the weight rank " +
               std::to_string(weightRank);
    const int spatial = rank >= 0 ? rank - 2 : weightRank >= 0 ? weightRank - 2 : -1;
    if (spatial < 0)
        return {};
    struct Expect {
        const char *name;
        int length;
    };
    const Expect expects[] = {{"kernel_shape", spatial}, {"strides", spatial},      {"dilations", spatial},
                              {"pads", 2 * spatial},     {"output_padding", spatial}};
    for (const auto &e : expects) {
        const int n = attributeLength(ctx, e.name);
        if (n >= 0 && n != e.length)
            return op + ": attribute " + e.name + " has " + std::to_string(n) + " values for " +
                   std::to_string(spatial) + " spatial dimensions (expected " + std::to_string(e.length) + ")";
    }
    const int outputShape = attributeLength(ctx, "output_shape");
    if (outputShape >= 0 && outputShape != spatial && outputShape != spatial + 2)
        return op + ": attribute output_shape has " + std::to_string(outputShape) + " values for " +
               std::to_string(spatial) + " spatial dimensions";
    return {};
}

const onnx::OpSchema *OnnxCheckedSchemaRegistry::GetSchema(const std::string &key, const int maxInclusiveVersion,
                                                           const std::string &domain) const
{
    const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Instance()->GetSchema(key, maxInclusiveVersion, domain);
    if (!schema || !(domain.empty() || domain == "ai.onnx") || !guardedOperator(key))
        return schema;
    std::lock_guard<std::mutex> lock(mutex_);
    auto &copy = guarded_[schema];
    if (!copy) {
        copy = std::make_unique<onnx::OpSchema>(*schema);
        onnx::InferenceFunction original = schema->GetTypeAndShapeInferenceFunction();
        copy->TypeAndShapeInferenceFunction([op = key, original](onnx::InferenceContext &ctx) {
            const std::string why = convolutionMismatch(op, ctx);
            if (!why.empty())
                fail_shape_inference(why);
            if (original)
                original(ctx);
        });
    }
    return copy.get();
}

} // namespace convscope
