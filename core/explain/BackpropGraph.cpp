#include "explain/BackpropGraph.h"

#include "common/Error.h"
#include "explain/RectifierRules.h"
#include "common/TextFormat.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <functional>
#include <map>

namespace convscope {

using torch::jit::Node;
using torch::jit::Value;

namespace {

void collectNodes(torch::jit::Block *block, std::vector<Node *> &nodes)
{
    for (Node *n : block->nodes()) {
        nodes.push_back(n);
        for (torch::jit::Block *b : n->blocks())
            collectNodes(b, nodes);
    }
}

/// The rule operator standing in for an ATen rectifier, with its arguments; nullptr kind when not covered.
struct Swap {
    const char *op = nullptr;
    std::vector<torch::jit::NamedValue> args;
};

Swap swapFor(Node *n, torch::jit::Graph &g, int64_t rule)
{
    const std::string kind = n->kind().toQualString();
    const bool inPlace = !kind.empty() && kind.back() == '_';
    const std::string base = inPlace ? kind.substr(0, kind.size() - 1) : kind;
    Value *x = n->inputs().empty() ? nullptr : n->input(0);
    Swap s;
    if (base == "aten::relu" && n->inputs().size() == 1) {
        s.op = inPlace ? "convscope::relu_rule_" : "convscope::relu_rule";
        s.args = {x, rule};
    } else if (base == "aten::relu6" && n->inputs().size() == 1) {
        s.op = inPlace ? "convscope::hardtanh_rule_" : "convscope::hardtanh_rule";
        s.args = {x, g.insertConstant(0.0), g.insertConstant(6.0), rule};
    } else if (base == "aten::hardtanh" && n->inputs().size() == 3) {
        s.op = inPlace ? "convscope::hardtanh_rule_" : "convscope::hardtanh_rule";
        s.args = {x, n->input(1), n->input(2), rule};
    } else if (base == "aten::leaky_relu" && n->inputs().size() == 2) {
        s.op = inPlace ? "convscope::leaky_relu_rule_" : "convscope::leaky_relu_rule";
        s.args = {x, n->input(1), rule};
    }
    return s;
}

const std::map<std::string, std::string> &smoothActivations()
{
    static const std::map<std::string, std::string> names{
        {"aten::silu", "SiLU"},         {"aten::gelu", "GELU"},       {"aten::elu", "ELU"},
        {"aten::selu", "SELU"},         {"aten::celu", "CELU"},       {"aten::mish", "Mish"},
        {"aten::softplus", "Softplus"}, {"aten::hardswish", "Hardswish"}, {"aten::prelu", "PReLU"},
        {"aten::rrelu", "RReLU"},
    };
    return names;
}

/// The probe copies a captured value (aten::clone) when an in-place op might overwrite it later. Where nothing
/// after the copy writes to the value, the copy is dropped: gradients with respect to the capture (Grad-CAM) then
/// reach the value the rest of the model really uses.
Value *originalOf(Value *captured, torch::jit::Graph &graph, torch::jit::AliasDb &aliasDb)
{
    Node *clone = captured->node();
    if (clone->kind() != c10::aten::clone || clone->owningBlock() != graph.block())
        return captured;
    Value *v = clone->input(0);
    std::vector<Node *> nodes;
    collectNodes(graph.block(), nodes);
    for (Node *n : nodes)
        if (n->isAfter(clone) && aliasDb.writesToAlias(n, {v}))
            return captured;
    return v;
}

/// Drops everything after the last node the kept values need, including side-effect-only checks (shape asserts
/// raising exceptions) that dead-code elimination must keep: projecting an early layer then runs only up to it.
void truncateAfter(torch::jit::Graph &graph, const std::vector<Value *> &kept)
{
    Node *last = nullptr;
    for (Value *v : kept) {
        Node *n = v->node();
        while (n->owningBlock() != graph.block())
            n = n->owningBlock()->owningNode();
        if (n->kind() != c10::prim::Param && (!last || n->isAfter(last)))
            last = n;
    }
    Node *n = graph.return_node()->prev();
    while (n != graph.block()->param_node() && n != last) {
        Node *prev = n->prev();
        bool used = false;
        for (Value *o : n->outputs())
            used = used || o->hasUses();
        if (!used && n->kind() != c10::prim::TupleConstruct)
            n->destroy();
        n = prev;
    }
}

} // namespace

BackpropGraph::BackpropGraph(const ProbeGraph &probe, const std::vector<int> &outputs, bool keepModelOutput,
                             BackpropRule rule)
{
    RectifierRules::ensureRegistered();
    auto graph = probe.graph->copy();
    try {
        std::vector<Value *> kept;
        if (keepModelOutput)
            kept.push_back(graph->outputs().at(0));
        {
            torch::jit::AliasDb aliasDb(graph);
            for (int o : outputs)
                kept.push_back(originalOf(graph->outputs().at(static_cast<size_t>(o)), *graph, aliasDb));
        }
        while (!graph->outputs().empty())
            graph->eraseOutput(graph->outputs().size() - 1);
        graph->setInsertPoint(graph->return_node());
        graph->registerOutput(graph->insertNode(graph->createTuple(kept))->output());
        if (!keepModelOutput)
            truncateAfter(*graph, kept);
        torch::jit::EliminateDeadCode(graph);

        std::vector<Node *> nodes;
        collectNodes(graph->block(), nodes);
        std::map<std::string, int> uncovered;
        for (Node *n : nodes) {
            if (rule == BackpropRule::Gradient)
                break;
            std::string kind = n->kind().toQualString();
            if (!kind.empty() && kind.back() == '_')
                kind.pop_back();
            if (auto it = smoothActivations().find(kind); it != smoothActivations().end()) {
                ++uncovered[it->second];
                continue;
            }
            torch::jit::WithInsertPoint guard(n);
            Swap s = swapFor(n, *graph, static_cast<int64_t>(rule));
            if (!s.op)
                continue;
            Value *r = graph->insert(c10::Symbol::fromQualString(s.op), s.args);
            n->output()->replaceAllUsesWith(r);
            n->destroy();
            ++swapped_;
        }
        for (const auto &[name, count] : uncovered)
            uncovered_.push_back(name + " (" + std::to_string(count) + (count == 1 ? " call)" : " calls)"));
        torch::jit::EliminateDeadCode(graph);
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        throw UnsupportedModelError("cannot prepare the model's graph for backpropagation: " + firstLine(e.what()));
    }
    function_ = std::make_unique<torch::jit::GraphFunction>("convscope_backprop", graph, nullptr,
                                                            torch::jit::ExecutorExecutionMode::SIMPLE);
}

BackpropGraph::~BackpropGraph() = default;

std::shared_ptr<torch::jit::Graph> BackpropGraph::graph() const
{
    return function_->graph();
}

std::vector<c10::IValue> BackpropGraph::run(const torch::jit::Module &module, const torch::Tensor &input) const
{
    torch::jit::Stack stack{module._ivalue(), input};
    try {
        torch::AutoGradMode grad(true);
        function_->run(stack);
    } catch (const std::exception &e) {
        throw UnsupportedModelError("the model rejected an input of shape " + shapeString(input.sizes()) + ": " +
                                    firstLine(e.what()));
    }
    const auto &values = stack.at(0).toTupleRef().elements();
    return std::vector<c10::IValue>(values.begin(), values.end());
}

} // namespace convscope
