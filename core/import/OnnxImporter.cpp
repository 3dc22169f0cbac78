#include "import/OnnxImporter.h"

#include "common/Error.h"
#include "import/OnnxEmitContext.h"
#include "import/OnnxFile.h"
#include "import/OnnxOperators.h"
#include "import/OnnxTensor.h"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <QFileInfo>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>

namespace convscope {

namespace {

using Ints = std::vector<std::int64_t>;

struct ValueInfo {
    Ints shape;
    bool known = false; ///< every dimension is known
    int elementType = 0;
};

using ValueInfos = std::map<std::string, ValueInfo>;
using Constants = std::map<std::string, torch::Tensor>;

/// What every function context reads: the constants, the inferred shapes and which values are used.
struct GraphState {
    int opset = 0;
    std::int64_t exportedBatch = 0;
    const Constants *constants = nullptr;
    const ValueInfos *infos = nullptr;
    const std::set<std::string> *needed = nullptr; ///< values consumed by a node or returned (null: all)
};

std::string sanitize(const std::string &name)
{
    std::string s = name;
    for (char &c : s)
        if (c == '.' || c == '/' || c == ':' || c == ' ')
            c = '_';
    return s.empty() ? std::string("_") : s;
}

bool isIdentifier(const std::string &s)
{
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

/// One function body being written: forward() of a module, or the throw-away function that folds a node.
class FunctionContext : public OnnxEmitContext {
public:
    FunctionContext(torch::jit::Module module, const GraphState &state) : module_(std::move(module)), state_(state) {}

    void begin(const onnx::NodeProto &node) { setNode(&node, state_.opset); }

    /// Binds a graph value to a new argument and returns the argument's name.
    std::string bindArgument(const std::string &value)
    {
        const std::string name = "x" + std::to_string(args_.size());
        args_.push_back(name);
        vars_[value] = name;
        return name;
    }
    /// A Tensor expression for a graph value: its variable, or a constant as a buffer.
    std::string valueExpression(const std::string &value)
    {
        auto it = vars_.find(value);
        if (it != vars_.end())
            return it->second;
        auto c = state_.constants->find(value);
        if (c != state_.constants->end())
            return buffer(value, c->second);
        throw UnsupportedModelError("the ONNX graph uses the value '" + value + "' before computing it");
    }
    /// Binds a graph value to a new variable (the outputs of a submodule call).
    std::string bindVariable(const std::string &value)
    {
        const std::string name = "v" + std::to_string(counter_++);
        vars_[value] = name;
        return name;
    }

    /// The function's source; `tuple` returns a tuple even for one value.
    std::string source(const std::vector<std::string> &returned, bool tuple = false)
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

    // --- OnnxEmitContext ---
    std::optional<torch::Tensor> constant(int i) const override
    {
        if (!has(i))
            return std::nullopt;
        auto it = state_.constants->find(node().input(i));
        if (it == state_.constants->end())
            return std::nullopt;
        return it->second;
    }
    std::string tensor(int i) override
    {
        if (!has(i))
            unsupported("input " + std::to_string(i) + " is missing");
        return valueExpression(node().input(i));
    }
    std::string parameter(int i, const std::string &name, const torch::Tensor &value) override
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
    std::vector<std::int64_t> shape(int i) const override
    {
        const ValueInfo *v = info(i);
        if (!v || !v->known) {
            if (auto c = constant(i))
                return Ints(c->sizes().begin(), c->sizes().end());
            unsupported("the shape of its input '" + node().input(i) +
                        "' is not known when the model is loaded (ONNX shape inference could not find it)");
        }
        return v->shape;
    }
    int elementType(int i) const override
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
        const ValueInfo *v = info(i);
        return v ? v->elementType : 0;
    }
    std::int64_t exportedBatch() const override { return state_.exportedBatch; }
    std::string output(int o) override
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
    void line(const std::string &code) override { lines_.push_back(code); }
    std::string temporary() override { return "t" + std::to_string(counter_++); }

    void addLine(const std::string &code) { lines_.push_back(code); }
    const torch::jit::Module &module() const { return module_; }

private:
    const ValueInfo *info(int i) const
    {
        if (!has(i))
            return nullptr;
        auto it = state_.infos->find(node().input(i));
        return it == state_.infos->end() ? nullptr : &it->second;
    }
    std::string buffer(const std::string &value, const torch::Tensor &t)
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

    torch::jit::Module module_;
    const GraphState &state_;
    std::vector<std::string> args_, lines_;
    std::map<std::string, std::string> vars_, buffers_, params_;
    int counter_ = 0;
};

torch::jit::Module newModule(const std::shared_ptr<torch::jit::CompilationUnit> &cu, const std::string &type)
{
    torch::jit::Module m(c10::QualifiedName("__torch__.convscope_onnx." + sanitize(type)), cu, true);
    m.register_attribute("training", c10::BoolType::get(), false);
    return m;
}

void define(torch::jit::Module &m, const std::string &source, const onnx::NodeProto *node)
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

/// Evaluates a node whose inputs are all constant by compiling and running it once.
std::vector<torch::Tensor> evaluate(const onnx::NodeProto &node, const GraphState &state,
                                    const std::shared_ptr<torch::jit::CompilationUnit> &cu)
{
    torch::jit::Module m = newModule(cu, "Fold");
    FunctionContext f(m, state);
    f.begin(node);
    OnnxOperators::emit(f);
    std::vector<std::string> outs;
    for (int o = 0; o < node.output_size(); ++o)
        if (!node.output(o).empty())
            outs.push_back(f.valueExpression(node.output(o)));
    define(m, f.source(outs, true), &node);
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

Constants nodeConstant(const onnx::NodeProto &node, const std::string &baseDir)
{
    Constants out;
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

ValueInfo infoOf(const onnx::ValueInfoProto &v)
{
    ValueInfo info;
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

/// Shapes of every value with the real inputs fixed to `batch` × ... (symbolic spatial dims set from options).
/// `model` without the data of its large initializers (weights): what shape inference needs (names, types, shapes, and
/// the values of small tensors such as reshape targets), cheap to copy once per inference round.
onnx::ModelProto withoutWeights(const onnx::ModelProto &model)
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

/// `known`: values folded so far, given to shape inference as initializers so that shapes computed from them
/// (a Reshape's target) are known too.
ValueInfos inferShapes(onnx::ModelProto model, const std::set<std::string> &realInputs, std::int64_t batch,
                       const OnnxImporter::Options &options, const Constants &known)
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
                const std::int64_t v = d == rank - 1 ? (options.width > 0 ? options.width : 224)
                                       : d == rank - 2 && rank >= 3 ? (options.height > 0 ? options.height : 224)
                                                                    : 3;
                dim->set_dim_value(v);
            }
        }
    }
    graph->clear_value_info();
    ValueInfos infos;
    try {
        onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
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

/// Folds every node that can be evaluated at load time and is not in `folded` yet, adding to `constants` (which
/// starts as the initializers) and `folded`.
void fold(const onnx::GraphProto &graph, Constants &constants, const ValueInfos &infos, const GraphState &base,
          const std::string &baseDir, const std::shared_ptr<torch::jit::CompilationUnit> &cu, std::set<int> &folded)
{
    GraphState state = base;
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
                const Ints &s = it->second.shape;
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
                constants[node.output(0)] = torch::tensor(Ints(s.begin() + start, s.begin() + std::max(start, end)),
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

/// A scope's call: the nodes it computes, in order, and the calls of its subscopes.
struct Instance {
    std::string key;                ///< attribute name in the parent module
    std::vector<std::string> scope; ///< exporter scope parts ("layer1", "layer1.0")
    int parent = -1;
    std::vector<std::pair<int, int>> items; ///< (node, -1) or (-1, child instance)
    std::string type;               ///< module type name
    std::vector<int> nodes;         ///< every node inside, recursively
    std::vector<std::string> inputs, outputs;
    std::string signature;
    std::string moduleId;           ///< identity of the module (same id = same module called again)
};

std::vector<std::string> scopeParts(const std::string &name)
{
    std::vector<std::string> parts;
    if (name.size() < 2 || name[0] != '/')
        return parts;
    size_t start = 1;
    for (size_t slash = name.find('/', start); slash != std::string::npos; slash = name.find('/', start)) {
        parts.push_back(name.substr(start, slash - start));
        start = slash + 1;
    }
    return parts; // the last part is the node's own name
}

std::string nodeKey(const onnx::NodeProto &node, int index)
{
    std::string name = node.name();
    if (!name.empty() && name[0] == '/')
        name = name.substr(name.rfind('/') + 1);
    if (name.empty())
        name = node.op_type() + "_" + std::to_string(index);
    return sanitize(name);
}

/// Exporters before opset 14 write hard-swish as x · HardSigmoid(x) (alpha 1/6, beta 1/2): one HardSwish node again,
/// so the layer is one activation (aten::hardswish, with its backprop rule) as in PyTorch.
onnx::ModelProto fuseHardSwish(onnx::ModelProto out)
{
    const onnx::ModelProto &model = out;
    const auto nodes = model.graph().node(); // a copy of the node list (without weights): `out` changes below
    std::map<std::string, int> users;
    for (const auto &n : nodes)
        for (const auto &in : n.input())
            ++users[in];
    for (const auto &o : model.graph().output())
        ++users[o.name()];
    std::map<std::string, int> hardSigmoidOf; // output -> node index
    for (int i = 0; i < nodes.size(); ++i) {
        const auto &n = nodes[i];
        if (n.op_type() != "HardSigmoid" || !n.domain().empty() || n.input_size() != 1 || n.output_size() != 1)
            continue;
        float alpha = 0.2f, beta = 0.5f;
        for (const auto &a : n.attribute()) {
            if (a.name() == "alpha")
                alpha = a.f();
            if (a.name() == "beta")
                beta = a.f();
        }
        if (std::abs(alpha - 1.0f / 6.0f) < 1e-6f && beta == 0.5f && users[n.output(0)] == 1)
            hardSigmoidOf[n.output(0)] = i;
    }
    std::set<int> drop;
    auto *graph = out.mutable_graph();
    for (int i = 0; i < nodes.size(); ++i) {
        const auto &n = nodes[i];
        if (n.op_type() != "Mul" || !n.domain().empty() || n.input_size() != 2)
            continue;
        for (int side : {0, 1}) {
            auto it = hardSigmoidOf.find(n.input(side));
            if (it == hardSigmoidOf.end() || nodes[it->second].input(0) != n.input(1 - side))
                continue;
            auto *fused = graph->mutable_node(i);
            const std::string x = n.input(1 - side);
            fused->set_op_type("HardSwish");
            fused->clear_input();
            fused->add_input(x);
            fused->clear_attribute();
            // "/features/features.1/Mul" names the scope's module; call the node after what it computes.
            std::string name = nodes[it->second].name();
            const auto slash = name.rfind("HardSigmoid");
            if (slash != std::string::npos)
                name.replace(slash, 11, "HardSwish");
            fused->set_name(name);
            drop.insert(it->second);
            break;
        }
    }
    if (drop.empty())
        return out;
    std::vector<onnx::NodeProto> kept;
    for (int i = 0; i < graph->node_size(); ++i)
        if (!drop.count(i))
            kept.push_back(graph->node(i));
    graph->clear_node();
    for (auto &n : kept)
        *graph->add_node() = std::move(n);
    return out;
}

class Builder {
public:
    Builder(const onnx::ModelProto &model, const std::string &baseDir, const OnnxImporter::Options &options)
        : original_(model), working_(withoutWeights(model)), graph_(&working_.graph()), baseDir_(baseDir), options_(options),
          cu_(std::make_shared<torch::jit::CompilationUnit>())
    {
    }

    OnnxImporter::Result run();

private:
    void checkOperators() const;
    bool inlineConstantIfs();
    void readInitializers();
    void computeLiveness();
    void foldAt(std::int64_t batch, ValueInfos &infos, Constants &constants, std::set<int> &folded);
    void keepBatchSymbolic(const Constants &atBatch2);
    void buildInstances();
    void finishInstance(int i);
    void generate(int i, FunctionContext *caller);

    const onnx::ModelProto &original_; ///< as read
    onnx::ModelProto working_;         ///< constant If nodes inlined; weights stay in original_ (read once)
    onnx::ModelProto light_;           ///< working_ without weights: what ONNX shape inference checks
    onnx::ModelProto model_;           ///< and HardSwish fused (opset 14 for inference): what is imported
    const onnx::GraphProto *graph_;    ///< the graph being worked on (working_'s, then model_'s)
    std::string baseDir_;
    OnnxImporter::Options options_;
    std::shared_ptr<torch::jit::CompilationUnit> cu_;

    GraphState state_;
    Constants initializers_, constants_;
    ValueInfos infos_;
    std::set<std::string> realInputs_;
    std::set<int> folded_;
    std::vector<int> live_;
    std::set<std::string> needed_;
    std::map<std::string, std::vector<int>> consumers_;
    std::set<std::string> graphOutputs_;
    std::vector<Instance> instances_;
    std::map<std::string, torch::jit::Module> modules_;
    std::set<std::string> defined_;
    OnnxImporter::Result result_;
};

void Builder::checkOperators() const
{
    std::map<std::string, std::string> unsupported; // op -> a node
    for (const auto &node : graph_->node()) {
        const bool standard = node.domain().empty() || node.domain() == "ai.onnx";
        const std::string op = standard ? node.op_type() : node.domain() + "." + node.op_type();
        if ((!standard || (!OnnxOperators::supports(node.op_type()) && node.op_type() != "Constant")) &&
            !unsupported.count(op))
            unsupported[op] = node.name().empty() ? "(unnamed)" : node.name();
    }
    if (unsupported.empty())
        return;
    std::string list;
    for (const auto &[op, node] : unsupported)
        list += (list.empty() ? "" : ", ") + op + " (e.g. node '" + node + "')";
    throw UnsupportedModelError("the model uses ONNX operator" + std::string(unsupported.size() > 1 ? "s" : "") +
                                " Convscope does not support: " + list);
}

bool Builder::inlineConstantIfs()
{
    std::vector<onnx::NodeProto> nodes;
    bool changed = false;
    for (const auto &node : working_.graph().node()) {
        auto cond = node.op_type() == "If" && node.domain().empty() && node.input_size() == 1
                        ? constants_.find(node.input(0))
                        : constants_.end();
        if (cond == constants_.end() || cond->second.numel() != 1) {
            nodes.push_back(node);
            continue;
        }
        const bool taken = cond->second.item<bool>();
        const onnx::GraphProto *branch = nullptr;
        for (const auto &a : node.attribute())
            if (a.name() == (taken ? "then_branch" : "else_branch") && a.has_g())
                branch = &a.g();
        if (!branch || branch->output_size() != node.output_size()) {
            nodes.push_back(node);
            continue;
        }
        for (const auto &init : branch->initializer()) { // the branch's own constants
            onnx::NodeProto c;
            c.set_op_type("Constant");
            c.set_name(node.name() + "/" + init.name());
            c.add_output(init.name());
            auto *value = c.add_attribute();
            value->set_name("value");
            value->set_type(onnx::AttributeProto::TENSOR);
            *value->mutable_t() = init;
            nodes.push_back(c);
        }
        for (const auto &n : branch->node())
            nodes.push_back(n);
        for (int o = 0; o < node.output_size(); ++o) {
            onnx::NodeProto id;
            id.set_op_type("Identity");
            id.set_name(node.name() + "_output_" + std::to_string(o));
            id.add_input(branch->output(o).name());
            id.add_output(node.output(o));
            nodes.push_back(id);
        }
        changed = true;
    }
    if (!changed)
        return false;
    auto *graph = working_.mutable_graph();
    graph->clear_node();
    for (auto &n : nodes)
        *graph->add_node() = std::move(n);
    graph_ = &working_.graph();
    return true;
}

void Builder::readInitializers()
{
    for (const auto &t : original_.graph().initializer())
        initializers_[t.name()] = OnnxTensor::toTensor(t, baseDir_, "the initializer '" + t.name() + "'");
    for (const auto &input : original_.graph().input()) {
        if (initializers_.count(input.name()))
            continue;
        if (!input.type().has_tensor_type())
            throw UnsupportedModelError("the ONNX graph's input '" + input.name() +
                                        "' is not a tensor (a sequence, map or optional value)");
        realInputs_.insert(input.name());
        result_.inputNames.push_back(input.name());
        Ints shape;
        if (input.type().tensor_type().has_shape())
            for (const auto &d : input.type().tensor_type().shape().dim())
                shape.push_back(d.has_dim_value() && d.dim_value() > 0 ? d.dim_value() : -1);
        result_.inputShapes.push_back(shape);
    }
    if (realInputs_.empty())
        throw UnsupportedModelError("the ONNX graph has no input (every input is an initializer)");
    const Ints &first = result_.inputShapes.front();
    state_.exportedBatch = !first.empty() && first[0] > 0 ? first[0] : 0;
}

void Builder::computeLiveness()
{
    for (const auto &o : graph_->output())
        graphOutputs_.insert(o.name());
    std::map<std::string, int> producer;
    for (int n = 0; n < graph_->node_size(); ++n)
        for (const auto &o : graph_->node(n).output())
            producer[o] = n;
    std::vector<bool> live(static_cast<size_t>(graph_->node_size()), false);
    std::vector<std::string> work(graphOutputs_.begin(), graphOutputs_.end());
    std::set<std::string> seen;
    while (!work.empty()) {
        std::string v = work.back();
        work.pop_back();
        if (!seen.insert(v).second || constants_.count(v))
            continue;
        auto it = producer.find(v);
        if (it == producer.end())
            continue;
        if (live[static_cast<size_t>(it->second)])
            continue;
        live[static_cast<size_t>(it->second)] = true;
        for (const auto &in : graph_->node(it->second).input())
            if (!in.empty())
                work.push_back(in);
    }
    for (int n = 0; n < graph_->node_size(); ++n) {
        if (!live[static_cast<size_t>(n)] || folded_.count(n))
            continue;
        live_.push_back(n);
        for (const auto &in : graph_->node(n).input())
            if (!in.empty() && !constants_.count(in)) {
                needed_.insert(in);
                consumers_[in].push_back(n);
            }
    }
    for (const auto &o : graphOutputs_)
        needed_.insert(o);
}

void Builder::foldAt(std::int64_t batch, ValueInfos &infos, Constants &constants, std::set<int> &folded)
{
    // Shape inference and folding feed each other (a folded Reshape target gives the next Shape its input's
    // shape): alternate until nothing new folds.
    Constants known;
    constants = initializers_;
    folded.clear();
    for (int round = 0; round < graph_->node_size() + 1; ++round) {
        infos = inferShapes(light_, realInputs_, batch, options_, known);
        const size_t foldedBefore = folded.size();
        fold(*graph_, constants, infos, state_, baseDir_, cu_, folded);
        if (folded.size() == foldedBefore && round > 0)
            return;
        const size_t before = known.size();
        for (const auto &[name, value] : constants)
            if (!initializers_.count(name) && value.numel() <= 64 && !known.count(name))
                known[name] = value;
        if (known.size() == before)
            return;
    }
}

void Builder::keepBatchSymbolic(const Constants &atBatch2)
{
    std::set<std::string> done;
    for (int n : live_) {
        for (const auto &in : graph_->node(n).input()) {
            if (done.count(in))
                continue;
            auto mine = constants_.find(in);
            auto other = atBatch2.find(in);
            if (mine == constants_.end() || other == atBatch2.end())
                continue;
            torch::Tensor &value = mine->second;
            if (other->second.sizes() == value.sizes() && torch::equal(other->second, value))
                continue;
            // A reshape target can keep the batch: an entry equal to it reads the running batch, and one other
            // entry proportional to it becomes -1.
            const std::string why = graph_->node(n).op_type() + " node '" + graph_->node(n).name() + "' takes '" + in +
                                    "', which the graph computes from the batch size in a way Convscope cannot keep "
                                    "symbolic";
            if (graph_->node(n).op_type() != "Reshape" || graph_->node(n).input_size() < 2 ||
                graph_->node(n).input(1) != in || value.dim() != 1 || value.scalar_type() != torch::kLong ||
                other->second.sizes() != value.sizes())
                throw UnsupportedModelError(why);
            bool inferred = false;
            int proportional = 0;
            for (std::int64_t k = 0; k < value.numel(); ++k) {
                const std::int64_t a = value[k].item<std::int64_t>(), b = other->second[k].item<std::int64_t>();
                inferred = inferred || a == -1;
                if (a != b && !(a == 1 && b == 2)) {
                    if (b != 2 * a)
                        throw UnsupportedModelError(why);
                    ++proportional;
                }
            }
            if (proportional > 1 || (proportional == 1 && inferred))
                throw UnsupportedModelError(why);
            done.insert(in);
            value = value.clone();
            for (std::int64_t k = 0; k < value.numel(); ++k) {
                const std::int64_t a = value[k].item<std::int64_t>(), b = other->second[k].item<std::int64_t>();
                if (a == 1 && b == 2)
                    value[k] = OnnxEmitContext::batchEntry;
                else if (a != b)
                    value[k] = -1;
            }
        }
    }
}
void Builder::buildInstances()
{
    Instance root;
    root.type = "OnnxModel";
    instances_.push_back(root);
    std::vector<int> stack{0};
    for (int n : live_) {
        const auto parts = scopeParts(graph_->node(n).name());
        auto isPrefix = [&](const std::vector<std::string> &p) {
            return p.size() <= parts.size() && std::equal(p.begin(), p.end(), parts.begin());
        };
        while (stack.size() > 1 && !isPrefix(instances_[static_cast<size_t>(stack.back())].scope))
            stack.pop_back();
        for (size_t k = instances_[static_cast<size_t>(stack.back())].scope.size(); k < parts.size(); ++k) {
            Instance c;
            c.scope.assign(parts.begin(), parts.begin() + static_cast<long>(k) + 1);
            c.parent = stack.back();
            const std::string prefix = k > 0 ? parts[k - 1] + "." : "";
            c.key = sanitize(!prefix.empty() && parts[k].rfind(prefix, 0) == 0 ? parts[k].substr(prefix.size()) : parts[k]);
            instances_.push_back(c);
            const int idx = static_cast<int>(instances_.size()) - 1;
            instances_[static_cast<size_t>(c.parent)].items.push_back({-1, idx});
            stack.push_back(idx);
        }
        instances_[static_cast<size_t>(stack.back())].items.push_back({n, -1});
    }
    // A layer node sharing its scope with anything else gets a module of its own; a scope with a single node is
    // that node's module.
    const size_t count = instances_.size();
    for (size_t i = 0; i < count; ++i) {
        const bool leaf = i > 0 && instances_[i].items.size() == 1 && instances_[i].items[0].first >= 0;
        if (leaf) {
            instances_[i].type = graph_->node(instances_[i].items[0].first).op_type();
            continue;
        }
        if (i > 0) {
            std::string ops; // a scope of inline operations only: name it after them
            bool onlyNodes = true;
            for (auto &[n, c] : instances_[i].items)
                if (n < 0)
                    onlyNodes = false;
            if (onlyNodes && instances_[i].items.size() <= 3)
                for (auto &[n, c] : instances_[i].items)
                    ops += (ops.empty() ? "" : "_") + graph_->node(n).op_type();
            instances_[i].type = ops.empty() ? "Scope" : ops;
        }
        for (size_t k = 0; k < instances_[i].items.size(); ++k) {
            const int n = instances_[i].items[k].first;
            if (n < 0 || !OnnxOperators::isLayer(graph_->node(n).op_type()))
                continue;
            Instance c;
            c.parent = static_cast<int>(i);
            c.key = nodeKey(graph_->node(n), n);
            c.scope = instances_[i].scope;
            c.scope.push_back("#" + c.key);
            c.type = graph_->node(n).op_type();
            c.items.push_back({n, -1});
            instances_.push_back(c); // may reallocate: index, never hold references across this
            instances_[i].items[k] = {-1, static_cast<int>(instances_.size()) - 1};
        }
    }
    finishInstance(0);
}

/// Fills nodes, interface and signature (children first), resolves repeated calls and key clashes.
void Builder::finishInstance(int i)
{
    Instance &inst = instances_[static_cast<size_t>(i)];
    std::string signature = inst.type + "{";
    std::map<std::string, std::string> childSignature; // key -> signature of the module under that key
    for (auto &[n, c] : inst.items) {
        if (n >= 0) {
            inst.nodes.push_back(n);
            const auto &node = graph_->node(n);
            signature += node.op_type() + "(";
            for (const auto &a : node.attribute())
                signature += a.SerializeAsString();
            for (const auto &in : node.input())
                signature += "|" + (constants_.count(in) ? in : std::string("*"));
            signature += ")";
            continue;
        }
        finishInstance(c);
        Instance &child = instances_[static_cast<size_t>(c)];
        Instance &self = instances_[static_cast<size_t>(i)];
        self.nodes.insert(self.nodes.end(), child.nodes.begin(), child.nodes.end());
        const std::string childSig = child.signature + "/" + std::to_string(child.inputs.size()) + "/" +
                                     std::to_string(child.outputs.size());
        // "relu_1" beside "relu" doing the same: the exporter's name for a second call of relu.
        const auto underscore = child.key.rfind('_');
        if (underscore != std::string::npos && underscore + 1 < child.key.size() &&
            std::all_of(child.key.begin() + static_cast<long>(underscore) + 1, child.key.end(), ::isdigit)) {
            const std::string base = child.key.substr(0, underscore);
            auto it = childSignature.find(base);
            if (it != childSignature.end() && it->second == childSig)
                child.key = base;
        }
        auto it = childSignature.find(child.key);
        if (it != childSignature.end() && it->second != childSig) {
            std::string key = child.key;
            for (int k = 2; childSignature.count(key); ++k)
                key = child.key + "_" + std::to_string(k);
            child.key = key;
        }
        childSignature[child.key] = childSig;
        signature += "[" + child.key + ":" + childSig + "]";
    }
    Instance &self = instances_[static_cast<size_t>(i)];
    self.signature = signature + "}";

    // Interface: values used inside but made outside, and values made inside and used outside.
    std::set<int> covered(self.nodes.begin(), self.nodes.end());
    std::set<std::string> made;
    for (int n : self.nodes)
        for (const auto &o : graph_->node(n).output())
            made.insert(o);
    if (i == 0) {
        self.inputs = result_.inputNames;
        for (const auto &o : graph_->output())
            self.outputs.push_back(o.name());
        return;
    }
    std::set<std::string> seen;
    for (int n : self.nodes)
        for (const auto &in : graph_->node(n).input())
            if (!in.empty() && !constants_.count(in) && !made.count(in) && seen.insert(in).second)
                self.inputs.push_back(in);
    for (int n : self.nodes)
        for (const auto &o : graph_->node(n).output()) {
            if (o.empty() || !needed_.count(o))
                continue;
            bool outside = graphOutputs_.count(o) > 0;
            for (int user : consumers_[o])
                outside = outside || !covered.count(user);
            if (outside)
                self.outputs.push_back(o);
        }
}

void Builder::generate(int i, FunctionContext *caller)
{
    Instance &inst = instances_[static_cast<size_t>(i)];
    const std::string parentId = inst.parent < 0 ? "" : instances_[static_cast<size_t>(inst.parent)].moduleId;
    inst.moduleId = inst.parent < 0 ? "" : parentId + "\n" + inst.key;

    auto existing = modules_.find(inst.moduleId);
    if (existing == modules_.end()) {
        torch::jit::Module m = newModule(cu_, inst.type);
        if (inst.parent >= 0)
            modules_.at(parentId).register_module(inst.key, m);
        existing = modules_.emplace(inst.moduleId, m).first;
    }
    if (!defined_.count(inst.moduleId)) {
        FunctionContext f(existing->second, state_);
        for (const auto &in : inst.inputs)
            f.bindArgument(in);
        for (auto &[n, c] : inst.items) {
            if (n >= 0) {
                f.begin(graph_->node(n));
                OnnxOperators::emit(f);
                ++result_.opCounts[graph_->node(n).op_type()];
            } else {
                generate(c, &f);
            }
        }
        std::vector<std::string> returned;
        for (const auto &o : inst.outputs)
            returned.push_back(f.valueExpression(o));
        if (returned.empty())
            throw UnsupportedModelError("the ONNX graph has no output");
        define(existing->second, f.source(returned), inst.items.size() == 1 && inst.items[0].first >= 0
                                                          ? &graph_->node(inst.items[0].first)
                                                          : nullptr);
        defined_.insert(inst.moduleId);
    } else {
        for (auto &[n, c] : inst.items)
            if (n >= 0)
                ++result_.opCounts[graph_->node(n).op_type()];
    }
    if (!caller)
        return;
    std::string args;
    for (const auto &in : inst.inputs)
        args += (args.empty() ? "" : ", ") + caller->valueExpression(in);
    const std::string callee = isIdentifier(inst.key) ? "self." + inst.key : "getattr(self, \"" + inst.key + "\")";
    const std::string call = callee + ".forward(" + args + ")"; // a module called from define(): no __call__
    if (inst.outputs.size() == 1) {
        caller->addLine(caller->bindVariable(inst.outputs[0]) + " = " + call);
        return;
    }
    const std::string t = caller->temporary();
    caller->addLine(t + " = " + call);
    for (size_t k = 0; k < inst.outputs.size(); ++k)
        caller->addLine(caller->bindVariable(inst.outputs[k]) + " = " + t + "[" + std::to_string(k) + "]");
}

OnnxImporter::Result Builder::run()
{
    state_.opset = OnnxFile::defaultOpset(original_);
    result_.description = OnnxFile::describe(original_);
    result_.nodes = graph_->node_size();
    readInitializers();

    // An If whose condition folds to a constant (exporters write them for rank checks) becomes its taken branch;
    // folding again may settle the next one.
    for (int round = 0; round < 64; ++round) {
        light_ = withoutWeights(working_);
        foldAt(1, infos_, constants_, folded_);
        if (!inlineConstantIfs())
            break;
    }
    light_ = withoutWeights(working_);
    model_ = fuseHardSwish(std::move(working_));
    graph_ = &model_.graph();
    checkOperators();
    foldAt(1, infos_, constants_, folded_);
    Constants atBatch2;
    if (state_.exportedBatch == 0) {
        // Constants that change with the batch size (Shape(x)[0] feeding a Reshape): fold again at batch 2.
        std::set<int> folded2;
        ValueInfos infos2;
        foldAt(2, infos2, atBatch2, folded2);
    }
    result_.folded = static_cast<int>(folded_.size());
    state_.constants = &constants_;
    state_.infos = &infos_;
    computeLiveness();
    keepBatchSymbolic(atBatch2);
    state_.needed = &needed_;
    buildInstances();
    generate(0, nullptr);
    result_.module = modules_.at("");
    result_.module.eval();
    return std::move(result_);
}

} // namespace

OnnxImporter::Result OnnxImporter::importModel(const onnx::ModelProto &model, const std::string &baseDir,
                                               const Options &options)
{
    Builder builder(model, baseDir, options);
    return builder.run();
}

OnnxImporter::Result OnnxImporter::importFile(const std::string &path, const Options &options)
{
    QFileInfo info(QString::fromStdString(path));
    if (!info.exists())
        throw IoError("model file '" + path + "' does not exist");
    const onnx::ModelProto model = OnnxFile::read(path);
    return importModel(model, info.absolutePath().toStdString(), options);
}

} // namespace convscope
