#include "model/ProbeGraphBuilder.h"

#include "common/Error.h"
#include "model/CaptureProtection.h"
#include "model/ModulePath.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <functional>
#include <optional>
#include <regex>

namespace convscope {

using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;
namespace attr = torch::jit::attr;
namespace prim = torch::jit::prim;

namespace {

/// Module path of a module-typed value: graph input 0 is `selfPath`, GetAttr chains extend it.
std::optional<std::string> modulePathOf(Value *v, Graph &graph, const std::string &selfPath)
{
    if (v == graph.inputs().at(0))
        return selfPath;
    Node *n = v->node();
    if (n->kind() != prim::GetAttr)
        return std::nullopt;
    auto parent = modulePathOf(n->input(0), graph, selfPath);
    if (!parent)
        return std::nullopt;
    return ModulePath::join(*parent, n->s(attr::name));
}

bool isForwardName(const std::string &name)
{
    // Scripted modules call "forward" (overloads: "forward__0"...); traced modules called several times get
    // "forward1", "forward2"...
    static const std::regex re("forward([0-9]*|__[0-9]+)");
    return std::regex_match(name, re);
}

/// A module attribute that may be frozen into a constant: plain values, not tensors, modules or objects.
bool isFoldable(const c10::IValue &v)
{
    if (v.isNone() || v.isBool() || v.isInt() || v.isDouble() || v.isString())
        return true;
    if (v.isIntList() || v.isDoubleList() || v.isBoolList())
        return true;
    if (v.isTuple()) {
        for (const auto &e : v.toTupleRef().elements())
            if (!isFoldable(e))
                return false;
        return true;
    }
    return false;
}

void forEachNode(torch::jit::Block *block, const std::function<void(Node *)> &fn)
{
    for (Node *n : block->nodes()) {
        fn(n);
        for (torch::jit::Block *b : n->blocks())
            forEachNode(b, fn);
    }
}

void collectSetAttrNames(Graph &g, std::unordered_set<std::string> &names)
{
    forEachNode(g.block(), [&](Node *n) {
        if (n->kind() == prim::SetAttr)
            names.insert(n->s(attr::name));
    });
}

} // namespace

ProbeGraphBuilder::ProbeGraphBuilder(torch::jit::Module root) : root_(std::move(root)) {}

void ProbeGraphBuilder::inlineFunctionCalls(Graph &graph)
{
    // Free functions (F.relu, F.dropout...) hide in-place variants behind their arguments: inline them so constant
    // propagation exposes `relu_` & co. Functions never call modules, so no capture point is lost.
    for (bool again = true; again;) {
        again = false;
        std::vector<Node *> calls;
        forEachNode(graph.block(), [&](Node *n) {
            if (n->kind() == prim::CallFunction)
                calls.push_back(n);
        });
        for (Node *n : calls) {
            auto fnType = n->input(0)->type()->cast<c10::FunctionType>();
            auto *fn = fnType ? torch::jit::tryToGraphFunction(*fnType->function()) : nullptr;
            if (!fn)
                continue;
            n->removeInput(0); // the function constant; the callee takes the remaining inputs
            torch::jit::inlineCallTo(n, fn);
            again = true;
        }
    }
}

void ProbeGraphBuilder::foldModuleAttributes(std::shared_ptr<Graph> &shared, const std::string &selfPath)
{
    Graph &graph = *shared;
    inlineFunctionCalls(graph);
    collectSetAttrNames(graph, mutatedAttributes_);
    std::vector<std::pair<Node *, c10::IValue>> folds;
    forEachNode(graph.block(), [&](Node *n) {
        if (n->kind() != prim::GetAttr)
            return;
        const std::string name = n->s(attr::name);
        if (mutatedAttributes_.count(name))
            return;
        auto ownerPath = modulePathOf(n->input(0), graph, selfPath);
        if (!ownerPath)
            return;
        auto owner = ModulePath::find(root_, *ownerPath);
        if (!owner || !owner->hasattr(name))
            return;
        c10::IValue value = owner->attr(name);
        if (isFoldable(value))
            folds.emplace_back(n, value);
    });
    for (auto &[n, value] : folds) {
        torch::jit::WithInsertPoint guard(n);
        if (auto c = torch::jit::tryInsertConstant(graph, value, c10::nullopt, n->scope()))
            n->output()->replaceAllUsesWith(*c);
    }
    torch::jit::ConstantPropagationImmutableTypes(shared);
    torch::jit::EliminateDeadCode(shared);
}

Node *ProbeGraphBuilder::nextCall()
{
    Node *found = nullptr;
    std::function<bool(torch::jit::Block *)> scan = [&](torch::jit::Block *b) {
        for (Node *n : b->nodes()) {
            if (n->kind() == prim::CallMethod && !opaque_.count(n)) {
                found = n;
                return true;
            }
            for (torch::jit::Block *inner : n->blocks())
                if (scan(inner))
                    return true;
        }
        return false;
    };
    scan(graph_->block());
    return found;
}

void ProbeGraphBuilder::inlineCall(Node *call)
{
    CallSite site = sites_.count(call) ? sites_[call] : CallSite{};
    Value *self = call->input(0);
    auto cls = self->type()->cast<c10::ClassType>();
    const std::string method = call->s(attr::name);
    torch::jit::Function *fn = cls ? cls->findMethod(method) : nullptr;
    auto *graphFn = fn ? torch::jit::tryToGraphFunction(*fn) : nullptr;
    if (!graphFn) {
        opaque_.insert(call); // interface call or native method: left as it is, not captured
        return;
    }
    auto calleePath = modulePathOf(self, *graph_, "");
    auto callee = graphFn->graph()->copy();
    if (calleePath)
        foldModuleAttributes(callee, *calleePath);

    const bool moduleCall = isForwardName(method) && (!calleePath || *calleePath != site.selfPath);
    int owner = site.owner;
    if (moduleCall) {
        RawCall rc;
        rc.modulePath = calleePath.value_or("?");
        rc.type = cls->name() ? cls->name()->name() : "Module";
        rc.parent = site.owner;
        if (!calleePath)
            rc.whyNot = "the module is chosen at run time (container indexed by a variable)";
        raw_.push_back(rc);
        owner = static_cast<int>(raw_.size()) - 1;
        if (site.owner >= 0)
            raw_[site.owner].children.push_back(owner);
    }

    torch::jit::WithInsertPoint guard(call);
    std::unordered_map<Value *, Value *> valueMap;
    auto outputs = torch::jit::insertGraph(*graph_, *callee, call->inputs(), valueMap);
    for (auto &[from, to] : valueMap) {
        if (from->node()->kind() == prim::CallMethod && from->node()->outputs().size() > 0 &&
            from == from->node()->output(0)) {
            sites_[to->node()] = CallSite{calleePath.value_or("?"), owner};
        }
    }
    // CallMethod nodes without outputs cannot be mapped through values; find them by scanning (rare).
    Value *result = outputs.at(0);
    // The tracer records a module that returns its input unchanged (Identity, StochasticDepth in eval) as
    // returning None; what a hook sees there is that input.
    if (moduleCall && result->type()->kind() == c10::TypeKind::NoneType && call->inputs().size() == 2 &&
        call->input(1)->type()->isSubtypeOf(*c10::TensorType::get()) && !call->output()->hasUses())
        result = call->input(1);
    const size_t call_inputs = call->inputs().size();
    const bool nested = call->owningBlock() != graph_->block();
    Node *end = nullptr;
    if (moduleCall) // a marker where the call returns; removed by the final dead-code pass
        end = graph_->insertConstant(c10::IValue(int64_t(0)))->node();
    call->output()->replaceAllUsesWith(result);
    // A module's result may be the result of a call inlined later (Sequential returns its last child's output).
    for (RawCall &rc : raw_)
        if (rc.value == call->output())
            rc.value = result;
    sites_.erase(call);
    call->destroy();

    if (moduleCall) {
        RawCall &rc = raw_[owner];
        rc.value = result;
        rc.end = end;
        if (rc.whyNot.empty() && nested)
            rc.whyNot = "called inside a data-dependent branch or loop";
        if (rc.whyNot.empty() && result->type()->kind() == c10::TypeKind::NoneType && call_inputs == 1)
            rc.whyNot = "traced as a no-op: the tracer kept neither its input nor its output";
        if (rc.whyNot.empty() && !result->type()->isSubtypeOf(*c10::TensorType::get()))
            rc.whyNot = "returns " + result->type()->annotation_str() + ", not a tensor";
    }
}

void ProbeGraphBuilder::registerOutputs()
{
    // Hook order = completion order of calls = post-order of the call tree (siblings in call order).
    std::function<void(int)> visit = [&](int i) {
        for (int c : raw_[i].children)
            visit(c);
        order_.push_back(i);
    };
    for (int i = 0; i < static_cast<int>(raw_.size()); ++i)
        if (raw_[i].parent < 0)
            visit(i);
}

ProbeGraph ProbeGraphBuilder::build()
{
    auto forward = root_.find_method("forward");
    if (!forward)
        throw UnsupportedModelError("the model has no forward() method");
    graph_ = forward->graph()->copy();
    foldModuleAttributes(graph_, "");
    for (Node *call = nextCall(); call; call = nextCall())
        inlineCall(call);

    registerOutputs();
    ProbeGraph result;
    result.calls.resize(order_.size());
    std::vector<int> rawToCall(raw_.size(), -1);
    for (size_t i = 0; i < order_.size(); ++i)
        rawToCall[order_[i]] = static_cast<int>(i);
    for (size_t i = 0; i < order_.size(); ++i) {
        const RawCall &rc = raw_[order_[i]];
        ModuleCall &mc = result.calls[i];
        mc.modulePath = rc.modulePath;
        mc.type = rc.type;
        mc.parent = rc.parent >= 0 ? rawToCall[rc.parent] : -1;
        mc.hasChildren = !rc.children.empty();
        mc.whyNot = rc.whyNot;
        if (rc.whyNot.empty() && rc.value) {
            mc.output = static_cast<int>(graph_->registerOutput(rc.value));
            if (rc.end)
                outputEnd_[static_cast<size_t>(mc.output)] = rc.end;
        }
    }
    // Post-order puts every parent after its children: walk backwards so parents get their depth first.
    for (auto it = result.calls.rbegin(); it != result.calls.rend(); ++it)
        it->depth = it->parent >= 0 ? result.calls[it->parent].depth + 1 : 0;

    // Variants that return few captures protect only those (Probe): keep the graph as it is now, end markers
    // included.
    result.unprotected = CaptureProtection::copy(*graph_, outputEnd_, result.ends);
    CaptureProtection(graph_, outputEnd_).run();
    torch::jit::EliminateDeadCode(graph_);
    result.graph = graph_;
    return result;
}

} // namespace convscope
