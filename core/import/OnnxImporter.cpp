#include "import/OnnxImporter.h"

#include "common/Error.h"
#include "import/OnnxConstantFolder.h"
#include "import/OnnxEmitContext.h"
#include "import/OnnxFile.h"
#include "import/OnnxFunctionContext.h"
#include "import/OnnxGraphRewrites.h"
#include "import/OnnxOperators.h"
#include "import/OnnxTensor.h"

#include <QFileInfo>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace convscope {

namespace {

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
    return OnnxFunctionContext::sanitize(name);
}

class Builder {
public:
    Builder(const onnx::ModelProto &model, const std::string &baseDir, const OnnxImporter::Options &options)
        : original_(model), working_(OnnxConstantFolder::withoutWeights(model)), graph_(&working_.graph()), baseDir_(baseDir), options_(options),
          cu_(std::make_shared<torch::jit::CompilationUnit>())
    {
    }

    OnnxImporter::Result run();

private:
    void checkOperators() const;
    void readInitializers();
    void computeLiveness();
    void foldAt(std::int64_t batch, OnnxValueInfos &infos, OnnxConstants &constants, std::set<int> &folded);
    void keepBatchSymbolic(const OnnxConstants &atBatch2);
    void buildInstances();
    void finishInstance(int i);
    void generate(int i, OnnxFunctionContext *caller);

    const onnx::ModelProto &original_; ///< as read
    onnx::ModelProto working_;         ///< constant If nodes inlined; weights stay in original_ (read once)
    onnx::ModelProto light_;           ///< working_ without weights: what ONNX shape inference checks
    onnx::ModelProto model_;           ///< and HardSwish fused (opset 14 for inference): what is imported
    const onnx::GraphProto *graph_;    ///< the graph being worked on (working_'s, then model_'s)
    std::string baseDir_;
    OnnxImporter::Options options_;
    std::shared_ptr<torch::jit::CompilationUnit> cu_;

    OnnxGraphState state_;
    OnnxConstants initializers_, constants_;
    OnnxValueInfos infos_;
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

void Builder::readInitializers()
{
    for (const auto &t : original_.graph().initializer())
        initializers_[t.name()] = OnnxTensor::toTensor(t, baseDir_, "the initializer '" + t.name() + "'");
    for (const auto &input : working_.graph().input()) { // channels-last inputs already turned round
        if (initializers_.count(input.name()))
            continue;
        if (!input.type().has_tensor_type())
            throw UnsupportedModelError("the ONNX graph's input '" + input.name() +
                                        "' is not a tensor (a sequence, map or optional value)");
        realInputs_.insert(input.name());
        result_.inputNames.push_back(input.name());
        std::vector<std::int64_t> shape;
        if (input.type().tensor_type().has_shape())
            for (const auto &d : input.type().tensor_type().shape().dim())
                shape.push_back(d.has_dim_value() && d.dim_value() > 0 ? d.dim_value() : -1);
        result_.inputShapes.push_back(shape);
    }
    if (realInputs_.empty())
        throw UnsupportedModelError("the ONNX graph has no input (every input is an initializer)");
    const std::vector<std::int64_t> &first = result_.inputShapes.front();
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

void Builder::foldAt(std::int64_t batch, OnnxValueInfos &infos, OnnxConstants &constants, std::set<int> &folded)
{
    // Shape inference and folding feed each other (a folded Reshape target gives the next Shape its input's
    // shape): alternate until nothing new folds.
    OnnxConstants known;
    constants = initializers_;
    folded.clear();
    for (int round = 0; round < graph_->node_size() + 1; ++round) {
        infos = OnnxConstantFolder::inferShapes(light_, realInputs_, batch, options_.height, options_.width, known);
        const size_t foldedBefore = folded.size();
        OnnxConstantFolder::fold(*graph_, constants, infos, state_, baseDir_, cu_, folded);
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

void Builder::keepBatchSymbolic(const OnnxConstants &atBatch2)
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
            c.key = OnnxFunctionContext::sanitize(!prefix.empty() && parts[k].rfind(prefix, 0) == 0 ? parts[k].substr(prefix.size()) : parts[k]);
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

void Builder::generate(int i, OnnxFunctionContext *caller)
{
    Instance &inst = instances_[static_cast<size_t>(i)];
    const std::string parentId = inst.parent < 0 ? "" : instances_[static_cast<size_t>(inst.parent)].moduleId;
    inst.moduleId = inst.parent < 0 ? "" : parentId + "\n" + inst.key;

    auto existing = modules_.find(inst.moduleId);
    if (existing == modules_.end()) {
        torch::jit::Module m = OnnxFunctionContext::newModule(cu_, inst.type);
        if (inst.parent >= 0)
            modules_.at(parentId).register_module(inst.key, m);
        existing = modules_.emplace(inst.moduleId, m).first;
    }
    if (!defined_.count(inst.moduleId)) {
        OnnxFunctionContext f(existing->second, state_);
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
        OnnxFunctionContext::compile(existing->second, f.source(returned), inst.items.size() == 1 && inst.items[0].first >= 0
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
    const std::string callee = OnnxFunctionContext::isIdentifier(inst.key) ? "self." + inst.key : "getattr(self, \"" + inst.key + "\")";
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
    const auto channelsLast = OnnxGraphRewrites::acceptChannelsFirst(working_);
    if (!channelsLast.empty())
        result_.description["input layout"] = "channels-last in the file (N×H×W×C, transposed first thing); "
                                              "Convscope feeds N×C×H×W";
    readInitializers();

    // An If whose condition folds to a constant (exporters write them for rank checks) becomes its taken branch;
    // folding again may settle the next one.
    for (int round = 0; round < 64; ++round) {
        light_ = OnnxConstantFolder::withoutWeights(working_);
        foldAt(1, infos_, constants_, folded_);
        if (!OnnxGraphRewrites::inlineConstantIfs(working_, constants_))
            break;
    }
    light_ = OnnxConstantFolder::withoutWeights(working_);
    model_ = OnnxGraphRewrites::fuseHardSwish(std::move(working_));
    graph_ = &model_.graph();
    checkOperators();
    foldAt(1, infos_, constants_, folded_);
    OnnxConstants atBatch2;
    if (state_.exportedBatch == 0) {
        // OnnxConstants that change with the batch size (Shape(x)[0] feeding a Reshape): fold again at batch 2.
        std::set<int> folded2;
        OnnxValueInfos infos2;
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
