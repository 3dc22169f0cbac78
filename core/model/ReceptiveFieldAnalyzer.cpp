#include "model/ReceptiveFieldAnalyzer.h"

#include "model/ModulePath.h"

#include <torch/csrc/jit/passes/constant_propagation.h>

#include <optional>
#include <unordered_set>

namespace convscope {

using torch::jit::Node;
using torch::jit::Value;

namespace {

std::optional<std::vector<std::int64_t>> constInts(Value *v)
{
    if (auto iv = torch::jit::toIValue(v)) {
        if (iv->isIntList())
            return iv->toIntVector();
        if (iv->isInt())
            return std::vector<std::int64_t>{iv->toInt()};
        return std::nullopt;
    }
    if (v->node()->kind() != c10::prim::ListConstruct)
        return std::nullopt;
    std::vector<std::int64_t> out;
    for (Value *item : v->node()->inputs()) {
        auto iv = torch::jit::toIValue(item);
        if (!iv || !iv->isInt())
            return std::nullopt;
        out.push_back(iv->toInt());
    }
    return out;
}

std::optional<std::int64_t> constInt(Value *v)
{
    auto ints = constInts(v);
    if (!ints || ints->size() != 1)
        return std::nullopt;
    return ints->front();
}

/// Two values (height, width) from a list of one or two.
std::optional<std::vector<std::int64_t>> pair(Value *v)
{
    auto ints = constInts(v);
    if (!ints || ints->empty() || ints->size() > 2)
        return std::nullopt;
    if (ints->size() == 1)
        ints->push_back(ints->front());
    return ints;
}

bool carriesTensors(Value *v)
{
    const auto kind = v->type()->kind();
    return kind == c10::TypeKind::TensorType || kind == c10::TypeKind::ListType ||
           kind == c10::TypeKind::TupleType || kind == c10::TypeKind::OptionalType;
}

bool spatialDims(const std::vector<std::int64_t> &dims)
{
    std::unordered_set<std::int64_t> d(dims.begin(), dims.end());
    return (d.count(2) || d.count(-2)) && (d.count(3) || d.count(-1));
}

/// Ops that work per position (or per channel), so each output unit sees what the same position of the inputs saw.
const std::unordered_set<std::string> &pointwiseOps()
{
    static const std::unordered_set<std::string> ops = {
        "relu", "relu_", "relu6", "relu6_", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "elu", "elu_",
        "selu", "selu_", "celu", "gelu", "silu", "silu_", "mish", "softplus", "sigmoid", "sigmoid_", "hardsigmoid",
        "hardsigmoid_", "hardswish", "hardswish_", "tanh", "tanh_", "prelu", "batch_norm", "dropout", "dropout_",
        "feature_dropout", "feature_dropout_", "alpha_dropout", "feature_alpha_dropout", "add", "add_", "sub",
        "sub_", "mul", "mul_", "div", "div_", "clone", "contiguous", "detach", "to", "type_as", "clamp", "clamp_",
        "clamp_min", "clamp_min_", "clamp_max", "neg", "abs", "exp", "log", "pow", "sqrt", "rsqrt", "square",
        "maximum", "minimum", "where", "threshold", "threshold_", "softmax", "log_softmax"};
    return ops;
}

} // namespace

ReceptiveFieldAnalyzer::ReceptiveFieldAnalyzer(const torch::jit::Module &root, const ProbeGraph &graph,
                                               std::int64_t imageHeight, std::int64_t imageWidth)
    : root_(root), graph_(graph), height_(imageHeight), width_(imageWidth)
{
}

ReceptiveField ReceptiveFieldAnalyzer::unknown(const std::string &why) const
{
    return ReceptiveField::unknown(height_, width_, why);
}

std::vector<ReceptiveField> ReceptiveFieldAnalyzer::analyze()
{
    fields_.clear();
    listItems_.clear();
    // On a copy with constants folded: `stride is None` tests and the like become plain lists of ints.
    // The copy keeps the outputs' order, which is what the call table refers to.
    work_ = graph_.graph->copy();
    torch::jit::ConstantPropagation(work_);
    auto &graph = *work_;
    if (graph.inputs().size() >= 2)
        fields_[graph.inputs()[1]] = ReceptiveField::identity(height_, width_);
    visit(graph.block());
    std::vector<ReceptiveField> out;
    for (const auto &call : graph_.calls) {
        const ReceptiveField *f = call.output > 0 ? fieldOf(graph.outputs().at(call.output)) : nullptr;
        out.push_back(f ? *f : unknown(call.output > 0 ? "output not derived from the image" : "not capturable"));
    }
    return out;
}

void ReceptiveFieldAnalyzer::visit(torch::jit::Block *block)
{
    for (Node *node : block->nodes())
        visitNode(node);
}

Value *ReceptiveFieldAnalyzer::listOrigin(Value *list)
{
    while (list->node()->kind() == c10::prim::unchecked_cast)
        list = list->node()->input(0);
    return list;
}

bool ReceptiveFieldAnalyzer::sameFields(Value *list) const
{
    list = listOrigin(list);
    std::vector<ReceptiveField> items;
    if (auto it = listItems_.find(list); it != listItems_.end())
        items = it->second;
    if (list->node()->kind() == c10::prim::ListConstruct)
        for (Value *v : list->node()->inputs())
            if (const ReceptiveField *f = fieldOf(v))
                items.push_back(*f);
    auto same = [](const ReceptiveField::Axis &a, const ReceptiveField::Axis &b) {
        return a.stride == b.stride && a.offset == b.offset && a.size == b.size && a.lo == b.lo && a.hi == b.hi;
    };
    for (const auto &f : items)
        if (f.scope != items.front().scope || !same(f.y, items.front().y) || !same(f.x, items.front().x))
            return false;
    return true;
}

const ReceptiveField *ReceptiveFieldAnalyzer::fieldOf(Value *value) const
{
    auto it = fields_.find(value);
    return it == fields_.end() ? nullptr : &it->second;
}

ReceptiveField ReceptiveFieldAnalyzer::unionOfInputs(Node *node) const
{
    std::optional<ReceptiveField> acc;
    for (Value *in : node->inputs())
        if (const ReceptiveField *f = fieldOf(in))
            acc = acc ? ReceptiveField::unite(*acc, *f) : *f;
    return acc.value_or(ReceptiveField::identity(height_, width_));
}

void ReceptiveFieldAnalyzer::setOutputs(Node *node, const ReceptiveField &field)
{
    for (Value *out : node->outputs())
        if (carriesTensors(out))
            fields_[out] = field;
}

ReceptiveField ReceptiveFieldAnalyzer::window(const ReceptiveField &in, const std::vector<std::int64_t> &kernel,
                                              const std::vector<std::int64_t> &stride,
                                              const std::vector<std::int64_t> &padding,
                                              const std::vector<std::int64_t> &dilation, bool ceilMode) const
{
    if (in.scope == ReceptiveField::Scope::Global)
        return in;
    ReceptiveField out = in;
    auto step = [&](const ReceptiveField::Axis &a, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d) {
        // Output extent as PyTorch computes it (a ceil-mode window must start inside the input or its left pad).
        const std::int64_t span = a.positions + 2 * p - d * (k - 1) - 1;
        std::int64_t positions = (ceilMode ? (span + s - 1) / s : span / s) + 1;
        if (ceilMode && (positions - 1) * s >= a.positions + p)
            --positions;
        ReceptiveField::Axis r{a.stride * s, a.offset - a.stride * p, a.size + (k - 1) * d * a.stride,
                               std::max<std::int64_t>(positions, 1), 0, 0};
        std::tie(r.lo, r.hi) = a.reach();
        return r;
    };
    out.y = step(in.y, kernel[0], stride[0], padding[0], dilation[0]);
    out.x = step(in.x, kernel[1], stride[1], padding[1], dilation[1]);
    return out;
}

std::vector<std::int64_t> ReceptiveFieldAnalyzer::kernelOfWeight(Value *weight) const
{
    torch::Tensor w;
    if (auto iv = torch::jit::toIValue(weight); iv && iv->isTensor()) {
        w = iv->toTensor();
    } else {
        // A chain of attribute reads from `self` (graph input 0): resolve it on the module.
        std::vector<std::string> names;
        Value *v = weight;
        while (v != work_->inputs().at(0)) {
            if (v->node()->kind() != c10::prim::GetAttr)
                return {};
            names.insert(names.begin(), v->node()->s(c10::attr::name));
            v = v->node()->input(0);
        }
        if (names.empty())
            return {};
        std::string parent;
        for (size_t i = 0; i + 1 < names.size(); ++i)
            parent = ModulePath::join(parent, names[i]);
        auto module = ModulePath::find(root_, parent);
        if (!module)
            return {};
        w = ModulePath::tensorAttribute(*module, names.back());
    }
    if (!w.defined() || w.dim() != 4)
        return {};
    return {w.size(2), w.size(3)};
}

void ReceptiveFieldAnalyzer::visitNode(Node *node)
{
    bool touched = false;
    for (Value *in : node->inputs())
        touched = touched || fieldOf(in) != nullptr;
    if (!node->blocks().empty()) {
        visitControlFlow(node, touched);
        return;
    }
    if (!touched)
        return;
    const std::optional<ReceptiveField> out = outputField(node);
    setOutputs(node, out ? *out : unknown(node->kind().toQualString()));
}

void ReceptiveFieldAnalyzer::visitControlFlow(Node *node, bool touched)
{
    for (torch::jit::Block *b : node->blocks())
        visit(b);
    if (node->kind() == c10::prim::If) {
        for (size_t i = 0; i < node->outputs().size(); ++i) {
            std::optional<ReceptiveField> acc;
            for (torch::jit::Block *b : node->blocks())
                if (const ReceptiveField *f = fieldOf(b->outputs()[i]))
                    acc = acc ? ReceptiveField::unite(*acc, *f) : *f;
            if (acc)
                fields_[node->outputs()[i]] = *acc;
        }
    } else if (touched) {
        setOutputs(node, unknown(node->kind().toQualString()));
    }
}

std::optional<ReceptiveField> ReceptiveFieldAnalyzer::outputField(Node *node)
{
    const std::string ns = node->kind().ns().toUnqualString();
    const std::string op = node->kind().toUnqualString();
    const ReceptiveField in = unionOfInputs(node);
    if (ns == "prim") {
        // Lists and tuples of maps, their unpacking, indexing: the fields travel along.
        if (op == "ListConstruct" || op == "TupleConstruct" || op == "ListUnpack" || op == "TupleUnpack" ||
            op == "TupleIndex" || op == "unchecked_cast")
            return in;
        return std::nullopt;
    }
    if (op == "__getitem__" || (op == "select" && node->inputs()[0]->type()->kind() == c10::TypeKind::ListType))
        return in;
    if (op == "conv2d" || op == "_convolution")
        return convolutionField(node, op == "_convolution");
    if (op == "max_pool2d" || op == "max_pool2d_with_indices" || op == "avg_pool2d")
        return poolField(node, op == "avg_pool2d");
    if (op == "adaptive_avg_pool2d" || op == "adaptive_max_pool2d")
        return adaptivePoolField(node);
    if (op == "constant_pad_nd")
        return padField(node);
    if (op == "mean" || op == "sum" || op == "amax" || op == "amin" || op == "std" || op == "var") {
        auto dims = node->inputs().size() > 1 ? constInts(node->input(1)) : std::nullopt;
        if (dims && spatialDims(*dims))
            return ReceptiveField::global(in);
        return std::nullopt;
    }
    if (op == "flatten") {
        auto start = node->inputs().size() > 1 ? constInt(node->input(1)) : std::nullopt;
        if (start && *start <= 1)
            return ReceptiveField::global(in);
        return std::nullopt;
    }
    if (op == "cat" || op == "chunk" || op == "split" || op == "split_with_sizes" || op == "unsafe_chunk")
        return channelSplitField(node, op == "cat", in);
    if (op == "append" && !node->inputs().empty())
        return appendField(node);
    if (pointwiseOps().count(op))
        return in;
    if ((op == "linear" || op == "matmul" || op == "addmm" || op == "mm") &&
        in.scope == ReceptiveField::Scope::Global)
        return in;
    return std::nullopt;
}

std::optional<ReceptiveField> ReceptiveFieldAnalyzer::convolutionField(Node *node, bool generic)
{
    const ReceptiveField *fx = fieldOf(node->input(0));
    auto kernel = kernelOfWeight(node->input(1));
    auto stride = pair(node->input(3));
    auto dilation = pair(node->input(5));
    std::optional<std::vector<std::int64_t>> padding;
    if (auto iv = torch::jit::toIValue(node->input(4)); iv && iv->isString()) {
        if (kernel.size() == 2 && dilation)
            padding = iv->toStringRef() == "valid"
                          ? std::vector<std::int64_t>{0, 0}
                          : std::vector<std::int64_t>{((kernel[0] - 1) * (*dilation)[0]) / 2,
                                                      ((kernel[1] - 1) * (*dilation)[1]) / 2};
    } else {
        padding = pair(node->input(4));
    }
    bool transposed = false;
    if (generic) { // aten::_convolution says whether it is transposed
        auto t = torch::jit::toIValue(node->input(6));
        transposed = !t || !t->isBool() || t->toBool();
    }
    if (!fx || kernel.size() != 2 || !stride || !padding || !dilation || transposed)
        return std::nullopt;
    return window(*fx, kernel, *stride, *padding, *dilation);
}

std::optional<ReceptiveField> ReceptiveFieldAnalyzer::poolField(Node *node, bool average)
{
    const ReceptiveField *fx = fieldOf(node->input(0));
    auto kernel = pair(node->input(1));
    auto strideList = constInts(node->input(2));
    auto padding = pair(node->input(3));
    auto dilation = average ? std::optional<std::vector<std::int64_t>>({1, 1}) : pair(node->input(4));
    auto ceil = torch::jit::toIValue(node->input(average ? 4 : 5));
    if (!fx || !kernel || !strideList || !padding || !dilation || !ceil || !ceil->isBool())
        return std::nullopt;
    auto stride = strideList->empty() ? kernel : pair(node->input(2));
    if (!stride)
        return std::nullopt;
    return window(*fx, *kernel, *stride, *padding, *dilation, ceil->toBool());
}

std::optional<ReceptiveField> ReceptiveFieldAnalyzer::padField(Node *node)
{
    // Pads list the last dim first: [left, right, top, bottom, (channels...)]; only spatial pads keep a window.
    const ReceptiveField *fx = fieldOf(node->input(0));
    auto pads = constInts(node->input(1));
    if (!fx || !pads || pads->size() < 4)
        return std::nullopt;
    for (size_t i = 4; i < pads->size(); ++i)
        if ((*pads)[i] != 0)
            return std::nullopt;
    if (fx->scope == ReceptiveField::Scope::Global)
        return *fx;
    auto grow = [](const ReceptiveField::Axis &a, std::int64_t before, std::int64_t after) {
        ReceptiveField::Axis r = a;
        r.offset = a.offset - a.stride * before;
        r.positions = std::max<std::int64_t>(a.positions + before + after, 1);
        return r;
    };
    ReceptiveField f = *fx;
    f.y = grow(fx->y, (*pads)[2], (*pads)[3]);
    f.x = grow(fx->x, (*pads)[0], (*pads)[1]);
    return f;
}

std::optional<ReceptiveField> ReceptiveFieldAnalyzer::adaptivePoolField(Node *node)
{
    // Bins [floor(i·n/m), ceil((i+1)·n/m)): a plain window when m divides n.
    auto size = pair(node->input(1));
    const ReceptiveField *fx = fieldOf(node->input(0));
    if (!size || !fx)
        return std::nullopt;
    if (fx->scope == ReceptiveField::Scope::Global)
        return *fx;
    const std::int64_t my = (*size)[0], mx = (*size)[1];
    if (my == 1 && mx == 1) // global pooling: broadcast back, it gives every position the whole reach
        return ReceptiveField::global(*fx);
    if (my <= 0 || mx <= 0)
        return std::nullopt;
    auto bins = [](const ReceptiveField::Axis &a, std::int64_t m) -> std::optional<ReceptiveField::Axis> {
        if (a.positions % m == 0) { // even bins: a window of n/m with stride n/m
            const std::int64_t k = a.positions / m;
            ReceptiveField::Axis r{a.stride * k, a.offset, a.size + (k - 1) * a.stride, m, 0, 0};
            std::tie(r.lo, r.hi) = a.reach();
            return r;
        }
        if (a.positions == 1) // one position copied to every bin (VGG's 7×7 pool on a 1×1 map)
            return ReceptiveField::Axis{0, a.offset, a.size, m, a.lo, a.hi};
        return std::nullopt;
    };
    auto by = bins(fx->y, my), bx = bins(fx->x, mx);
    if (!by || !bx)
        return std::nullopt;
    ReceptiveField f = *fx;
    f.y = *by;
    f.x = *bx;
    return f;
}

std::optional<ReceptiveField> ReceptiveFieldAnalyzer::channelSplitField(Node *node, bool concatenation,
                                                                       const ReceptiveField &in)
{
    // Along channels the positions stay put; along any other axis they do not.
    const size_t dimArg = concatenation ? 1 : 2;
    auto dim = node->inputs().size() > dimArg ? constInt(node->input(dimArg)) : std::nullopt;
    if (!dim || (*dim != 1 && *dim != -3))
        return std::nullopt;
    ReceptiveField f = in;
    if (concatenation && !sameFields(node->input(0)) && f.exact) {
        f.exact = false;
        f.note = "concatenated branches see different windows; this is their union";
    }
    return f;
}

std::optional<ReceptiveField> ReceptiveFieldAnalyzer::appendField(Node *node)
{
    // A list of maps grown in place (DenseNet's features): later reads of the list see the new item too.
    if (const ReceptiveField *item = node->inputs().size() > 1 ? fieldOf(node->input(1)) : nullptr) {
        const ReceptiveField *list = fieldOf(node->input(0));
        fields_[node->input(0)] = list ? ReceptiveField::unite(*list, *item) : *item;
        listItems_[listOrigin(node->input(0))].push_back(*item);
    }
    return *fieldOf(node->input(0));
}

} // namespace convscope
