#include "import/OnnxConstantFolder.h"

#include "common/Error.h"
#include "import/OnnxCheckedSchemaRegistry.h"
#include "import/OnnxFunctionContext.h"
#include "import/OnnxOperators.h"
#include "import/OnnxTensor.h"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>

namespace convscope {

std::vector<torch::Tensor> OnnxConstantFolder::evaluate(const onnx::NodeProto &node, const OnnxGraphState &state,
                                    const std::shared_ptr<torch::jit::CompilationUnit> &cu)
{
    torch::jit::Module m = OnnxFunctionContext::newModule(cu, "Fold");
    OnnxFunctionContext f(m, state);
    f.begin(node);
    OnnxOperators::emit(f);
    std::vector<std::string> outs;
    for (int o = 0; o < node.output_size(); ++o)
        if (!node.output(o).empty())
            outs.push_back(f.valueExpression(node.output(o)));
    OnnxFunctionContext::compile(m, f.source(outs, true), &node);
    c10::IValue r;
    {
        torch::NoGradGuard noGrad;
        r = m.forward({});
    }
    std::vector<torch::Tensor> result;
    for (const auto &e : r.toTupleRef().elements())
        result.push_back(e.toTensor());
    return result;
}

OnnxConstants OnnxConstantFolder::nodeConstant(const onnx::NodeProto &node, const std::string &baseDir)
{
    OnnxConstants out;
    for (const auto &a : node.attribute()) {
        torch::Tensor t;
        if (a.name() == "value")
            t = OnnxTensor::toTensor(a.t(), baseDir, "the Constant node '" + node.name() + "'");
        else if (a.name() == "value_float")
            t = torch::tensor(a.f());
        else if (a.name() == "value_floats")
            t = torch::tensor(std::vector<float>(a.floats().begin(), a.floats().end()));
        else if (a.name() == "value_int")
            t = torch::tensor(a.i());
        else if (a.name() == "value_ints")
            t = torch::tensor(std::vector<std::int64_t>(a.ints().begin(), a.ints().end()));
        else
            throw UnsupportedModelError("Constant node '" + node.name() + "' holds a " + a.name() +
                                        ", which Convscope cannot read");
        out[node.output(0)] = t;
    }
    if (out.empty())
        throw ModelLoadError("Constant node '" + node.name() + "' holds no value");
    return out;
}

OnnxValueInfo OnnxConstantFolder::infoOf(const onnx::ValueInfoProto &v)
{
    OnnxValueInfo info;
    if (!v.type().has_tensor_type())
        return info;
    const auto &tt = v.type().tensor_type();
    info.elementType = tt.elem_type();
    if (!tt.has_shape())
        return info;
    info.known = true;
    for (const auto &d : tt.shape().dim()) {
        if (d.has_dim_value() && d.dim_value() >= 0) {
            info.shape.push_back(d.dim_value());
        } else {
            info.shape.push_back(-1);
            info.known = false;
        }
    }
    return info;
}

onnx::ModelProto OnnxConstantFolder::withoutWeights(const onnx::ModelProto &model)
{
    onnx::ModelProto light = model;
    for (auto &t : *light.mutable_graph()->mutable_initializer()) {
        std::int64_t count = 1;
        for (auto d : t.dims())
            count *= d;
        if (count <= 64)
            continue;
        t.clear_raw_data();
        t.clear_float_data();
        t.clear_double_data();
        t.clear_int32_data();
        t.clear_int64_data();
        t.clear_external_data();
        t.clear_data_location();
    }
    return light;
}

OnnxValueInfos OnnxConstantFolder::inferShapes(onnx::ModelProto model, const std::set<std::string> &realInputs,
                                               std::int64_t batch, int height, int width, const OnnxConstants &known)
{
    auto *graph = model.mutable_graph();
    for (const auto &[name, value] : known)
        *graph->add_initializer() = OnnxTensor::toProto(value, name);
    for (auto &input : *graph->mutable_input()) {
        if (!realInputs.count(input.name()) || !input.type().tensor_type().has_shape())
            continue;
        auto *dims = input.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim();
        for (int d = 0; d < dims->size(); ++d) {
            auto *dim = dims->Mutable(d);
            if (d == 0 && !dim->has_dim_value()) {
                dim->set_dim_value(batch);
            } else if (!dim->has_dim_value()) {
                const int rank = dims->size();
                const std::int64_t v = d == rank - 1 ? (width > 0 ? width : 224)
                                       : d == rank - 2 && rank >= 3 ? (height > 0 ? height : 224)
                                                                    : 3;
                dim->set_dim_value(v);
            }
        }
    }
    graph->clear_value_info();
    OnnxValueInfos infos;
    try {
        onnx::shape_inference::InferShapes(model, &OnnxCheckedSchemaRegistry::instance(),
                                           onnx::ShapeInferenceOptions(false, 0, true));
    } catch (const std::exception &) {
        // Shapes stay unknown; an operator that needs one says so.
    }
    for (const auto &v : graph->input())
        infos[v.name()] = infoOf(v);
    for (const auto &v : graph->value_info())
        infos[v.name()] = infoOf(v);
    for (const auto &v : graph->output())
        if (!infos.count(v.name()) || !infos[v.name()].known)
            infos[v.name()] = infoOf(v);
    return infos;
}

void OnnxConstantFolder::fold(const onnx::GraphProto &graph, OnnxConstants &constants, const OnnxValueInfos &infos,
                              const OnnxGraphState &base, const std::string &baseDir,
                              const std::shared_ptr<torch::jit::CompilationUnit> &cu, std::set<int> &folded)
{
    OnnxGraphState state = base;
    state.constants = &constants;
    state.infos = &infos;
    state.needed = nullptr;
    for (int n = 0; n < graph.node_size(); ++n) {
        const auto &node = graph.node(n);
        if (folded.count(n) || (!node.domain().empty() && node.domain() != "ai.onnx"))
            continue;
        if (node.op_type() == "Constant") {
            for (auto &[k, v] : nodeConstant(node, baseDir))
                constants[k] = v;
            folded.insert(n);
            continue;
        }
        if (node.op_type() == "Shape" && node.input_size() == 1) {
            auto it = infos.find(node.input(0));
            if (it != infos.end() && it->second.known) {
                const std::vector<std::int64_t> &s = it->second.shape;
                const std::int64_t rank = static_cast<std::int64_t>(s.size());
                std::int64_t start = 0, end = rank;
                for (const auto &a : node.attribute()) {
                    if (a.name() == "start")
                        start = a.i();
                    if (a.name() == "end")
                        end = a.i();
                }
                start = std::clamp(start < 0 ? start + rank : start, std::int64_t(0), rank);
                end = std::clamp(end < 0 ? end + rank : end, std::int64_t(0), rank);
                constants[node.output(0)] = torch::tensor(std::vector<std::int64_t>(s.begin() + start, s.begin() + std::max(start, end)),
                                                          torch::kLong);
                folded.insert(n);
            }
            continue;
        }
        if (!OnnxOperators::foldable(node.op_type()))
            continue;
        bool allConstant = node.input_size() > 0;
        for (const auto &in : node.input())
            allConstant = allConstant && (in.empty() || constants.count(in));
        if (!allConstant)
            continue;
        auto values = evaluate(node, state, cu);
        int k = 0;
        for (int o = 0; o < node.output_size(); ++o)
            if (!node.output(o).empty())
                constants[node.output(o)] = values.at(static_cast<size_t>(k++));
        folded.insert(n);
    }
}

} // namespace convscope
