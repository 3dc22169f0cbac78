#include "model/CaptureProtection.h"

#include "common/Error.h"

#include <torch/csrc/jit/ir/alias_analysis.h>

#include <functional>

namespace convscope {

using torch::jit::Node;
using torch::jit::Value;

namespace {

void forEachNode(torch::jit::Block *block, const std::function<void(Node *)> &fn)
{
    for (Node *n : block->nodes()) {
        fn(n);
        for (torch::jit::Block *b : n->blocks())
            forEachNode(b, fn);
    }
}

} // namespace

CaptureProtection::CaptureProtection(std::shared_ptr<torch::jit::Graph> graph,
                                     std::unordered_map<size_t, torch::jit::Node *> ends)
    : graph_(std::move(graph)), ends_(std::move(ends))
{
}

std::shared_ptr<torch::jit::Graph> CaptureProtection::copy(torch::jit::Graph &graph,
                                                           const std::unordered_map<size_t, Node *> &ends,
                                                           std::unordered_map<size_t, Node *> &copiedEnds)
{
    auto result = graph.copy();
    std::unordered_map<Node *, Node *> copyOf;
    auto to = result->block()->nodes().begin();
    for (Node *from : graph.block()->nodes())
        copyOf[from] = *to++;
    copiedEnds.clear();
    for (const auto &[output, end] : ends)
        if (auto it = copyOf.find(end); it != copyOf.end())
            copiedEnds[output] = it->second;
    return result;
}

bool CaptureProtection::functionalize(Node *node, const std::vector<Value *> &aliases)
{
    // Safe only when the mutated value is used afterwards through itself (or the op's result) alone.
    Value *self = node->input(0);
    if (node->owningBlock() != graph_->block())
        return false;
    for (Value *a : aliases) {
        if (a == self || a == node->output())
            continue;
        for (const auto &use : a->uses())
            if (use.user == graph_->return_node() ? capturedLater(use.offset, node) : use.user->isAfter(node))
                return false;
    }
    std::string name = node->kind().toUnqualString();
    auto functional = c10::Symbol::fromQualString("aten::" + name.substr(0, name.size() - 1));
    Node *f = graph_->create(functional, node->inputs(), 1);
    f->insertBefore(node);
    if (!f->maybeSchema()) {
        f->destroy();
        return false;
    }
    f->output()->setType(node->output()->type());
    f->setScope(node->scope());
    node->output()->replaceAllUsesWith(f->output());
    std::vector<torch::jit::Use> uses(self->uses().begin(), self->uses().end());
    for (const auto &use : uses) {
        // A capture sees the mutation when its call returns after the op; the model's result (output 0) always.
        const bool later = use.user == graph_->return_node() ? capturedLater(use.offset, node)
                                                             : use.user != f && use.user->isAfter(node);
        if (later)
            use.user->replaceInput(use.offset, f->output());
    }
    node->destroy();
    return true;
}

bool CaptureProtection::capturedLater(size_t output, Node *node) const
{
    if (output == 0)
        return true;
    auto it = ends_.find(output);
    return it == ends_.end() || it->second->isAfter(node);
}

void CaptureProtection::cloneCaptured(const std::vector<int> &outputs)
{
    for (int o : outputs) {
        // Copy the value at the moment its call returns (its end marker), as a hook would.
        Value *v = graph_->outputs().at(o);
        auto end = ends_.find(static_cast<size_t>(o));
        Node *at = end != ends_.end() ? end->second->next() : v->node()->next();
        if (end == ends_.end() && v->node()->kind() == c10::prim::Param)
            at = graph_->block()->nodes().front();
        torch::jit::WithInsertPoint guard(at);
        Value *none = graph_->insertConstant(c10::IValue());
        Node *clone = graph_->create(c10::Symbol::fromQualString("aten::clone"), {v, none}, 1);
        graph_->insertNode(clone);
        clone->output()->setType(v->type());
        graph_->return_node()->replaceInput(o, clone->output());
    }
}

void CaptureProtection::run()
{
    if (graph_->outputs().size() <= 1)
        return; // nothing captured: the model's own in-place ops stay as they are
    std::unordered_set<Node *> tried;
    for (int round = 0; round < 100000; ++round) {
        torch::jit::AliasDb aliasDb(graph_);
        torch::jit::ValueSet captured;
        for (size_t i = 1; i < graph_->outputs().size(); ++i)
            captured.insert(graph_->outputs()[i]);
        Node *culprit = nullptr;
        forEachNode(graph_->block(), [&](Node *n) {
            if (culprit || tried.count(n) || n->outputs().size() != 1 || n->inputs().empty())
                return;
            const std::string name = n->kind().toUnqualString();
            if (!n->kind().is_aten() || name.empty() || name.back() != '_' || name.front() == '_')
                return;
            if (aliasDb.isMutable(n) && aliasDb.writesToAlias(n, captured))
                culprit = n;
        });
        if (!culprit)
            return;
        std::vector<Value *> aliases;
        std::vector<int> aliasedOutputs;
        forEachNode(graph_->block(), [&](Node *n) {
            for (Value *v : n->outputs())
                if (aliasDb.mayAlias(v, culprit->input(0)))
                    aliases.push_back(v);
        });
        for (size_t i = 1; i < graph_->outputs().size(); ++i)
            if (aliasDb.mayAlias(graph_->outputs()[i], culprit->input(0)) &&
                graph_->outputs()[i] != culprit->output())
                aliasedOutputs.push_back(static_cast<int>(i));
        tried.insert(culprit);
        if (!functionalize(culprit, aliases))
            cloneCaptured(aliasedOutputs);
    }
    throw UnsupportedModelError("the model's graph has too many in-place operations to capture safely");
}

} // namespace convscope
