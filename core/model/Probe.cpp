#include "model/Probe.h"

#include "common/Error.h"
#include "model/CaptureProtection.h"
#include "model/ChannelStatisticsOp.h"
#include "common/TextFormat.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <algorithm>
#include <unordered_map>

namespace convscope {

struct Probe::Variant {
    std::unique_ptr<torch::jit::GraphFunction> function;
    std::map<int, size_t> position; ///< full-graph output index -> this variant's output index
};

Probe::Probe(torch::jit::Module module) : module_(std::move(module))
{
    try {
        graph_ = ProbeGraphBuilder(module_).build();
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        throw UnsupportedModelError("cannot analyse the model's graph: " + firstLine(e.what()));
    }
}

Probe::~Probe() = default;

std::vector<int> Probe::capturable() const
{
    std::vector<int> result;
    for (size_t i = 0; i < graph_.calls.size(); ++i)
        if (graph_.calls[i].output >= 0)
            result.push_back(static_cast<int>(i));
    return result;
}

const Probe::Variant &Probe::variantFor(const std::vector<int> &outputs, const std::vector<int> &reduced) const
{
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = variants_.find({outputs, reduced});
    if (it != variants_.end())
        return *it->second;
    // Start from the unprotected graph (the model's in-place ops intact) and find the end markers in the copy.
    std::unordered_map<size_t, torch::jit::Node *> ends;
    auto graph = CaptureProtection::copy(*graph_.unprotected, graph_.ends, ends);
    auto variant = std::make_unique<Variant>();
    // Statistics of the reduced captures, taken where the call returns (its end marker: the moment a hook would
    // see the map), so they need no protection from the model's later in-place ops, and the map dies as soon as
    // the model is done with it.
    std::vector<torch::jit::Value *> statistics;
    // Nested calls often return the same map (a block, the Sequential inside it, its last layer): reduce it once
    // when nothing but end markers (constants) and statistics lie between their returns, so no op can change it.
    struct Taken {
        torch::jit::Node *after;
        std::vector<torch::jit::Value *> statistics;
    };
    std::unordered_map<torch::jit::Value *, std::vector<Taken>> taken;
    auto onlyMarkersBetween = [](torch::jit::Node *a, torch::jit::Node *b) {
        if (b->isBefore(a))
            std::swap(a, b);
        for (torch::jit::Node *n = a->next(); n != b; n = n->next())
            if (n->kind() != c10::prim::Constant && n->kind() != c10::prim::TupleConstruct &&
                n->kind() != c10::prim::TupleUnpack &&
                n->kind() != ChannelStatisticsOp::symbol()) // markers, and statistics inserted here before
                return false;
        return true;
    };
    for (int r : reduced) {
        torch::jit::Value *map = graph->outputs().at(static_cast<size_t>(r));
        torch::jit::Node *after = ends.count(static_cast<size_t>(r)) ? ends.at(static_cast<size_t>(r)) : map->node();
        if (after->kind() == c10::prim::Param)
            after = graph->param_node();
        auto &same = taken[map];
        auto earlier = std::find_if(same.begin(), same.end(), [&](const Taken &t) {
            return t.after->owningBlock() == after->owningBlock() && onlyMarkersBetween(t.after, after);
        });
        if (earlier != same.end()) {
            statistics.insert(statistics.end(), earlier->statistics.begin(), earlier->statistics.end());
            continue;
        }
        torch::jit::WithInsertPoint guard(after->next());
        // One pass over the map gives its maximum, the first position of it and its mean (ChannelStatisticsOp);
        // ATen's reductions would read the map twice and find the position with a slow index-tracking kernel.
        torch::jit::Value *stats = graph->insert(ChannelStatisticsOp::symbol(), {map});
        torch::jit::Node *unpack = graph->insertNode(graph->createTupleUnpack(stats));
        Taken t{after, {}};
        for (torch::jit::Value *v : unpack->outputs()) {
            statistics.push_back(v);
            t.statistics.push_back(v);
        }
        same.push_back(std::move(t));
    }
    // Keep output 0 (the model's result) and the selected captures; drop the rest from the back.
    for (size_t i = graph->outputs().size(); i-- > 1;)
        if (!std::binary_search(outputs.begin(), outputs.end(), static_cast<int>(i)))
            graph->eraseOutput(i);
    std::unordered_map<size_t, torch::jit::Node *> keptEnds;
    for (size_t k = 0; k < outputs.size(); ++k) {
        variant->position[outputs[k]] = k + 1;
        if (ends.count(static_cast<size_t>(outputs[k])))
            keptEnds[k + 1] = ends.at(static_cast<size_t>(outputs[k]));
    }
    // Protect only what this variant returns whole: the model keeps every other in-place op.
    CaptureProtection(graph, std::move(keptEnds)).run();
    // Functions return one value: pack (model output, captures..., statistics...) into a tuple.
    std::vector<torch::jit::Value *> values(graph->outputs().begin(), graph->outputs().end());
    values.insert(values.end(), statistics.begin(), statistics.end());
    while (!graph->outputs().empty())
        graph->eraseOutput(graph->outputs().size() - 1);
    graph->setInsertPoint(graph->return_node());
    graph->registerOutput(graph->insertNode(graph->createTuple(values))->output());
    torch::jit::EliminateDeadCode(graph);
    variant->function = std::make_unique<torch::jit::GraphFunction>("convscope_probe", graph, nullptr);
    return *variants_.emplace(std::pair{outputs, reduced}, std::move(variant)).first->second;
}

std::vector<int> Probe::outputsOf(const std::vector<int> &which) const
{
    std::vector<int> outputs;
    for (int i : which) {
        if (i < 0 || i >= static_cast<int>(graph_.calls.size()))
            throw UsageError("no module call with index " + std::to_string(i));
        const ModuleCall &c = graph_.calls[i];
        if (c.output < 0)
            throw UsageError("the output of '" + c.modulePath + "' cannot be captured: " + c.whyNot);
        outputs.push_back(c.output);
    }
    return outputs;
}

Probe::Output Probe::run(const torch::Tensor &input, const std::vector<int> &which, const std::vector<int> &reduced,
                         std::vector<Reduced> &statistics) const
{
    std::vector<int> outputs = outputsOf(which);
    std::sort(outputs.begin(), outputs.end());
    outputs.erase(std::unique(outputs.begin(), outputs.end()), outputs.end());
    const std::vector<int> reducedOutputs = outputsOf(reduced);
    const Variant &variant = variantFor(outputs, reducedOutputs);

    torch::jit::Stack stack{module_._ivalue(), input};
    try {
        torch::NoGradGuard noGrad;
        variant.function->run(stack);
    } catch (const std::exception &e) {
        throw UnsupportedModelError("the model rejected an input of shape " + shapeString(input.sizes()) + ": " +
                                    firstLine(e.what()));
    }
    const auto &values = stack.at(0).toTupleRef().elements();
    Output out;
    out.modelOutput = values.at(0);
    out.captured.reserve(which.size());
    for (int i : which)
        out.captured.push_back(values.at(variant.position.at(graph_.calls[i].output)).toTensor());
    statistics.clear();
    const size_t first = 1 + outputs.size();
    for (size_t r = 0; r < reduced.size(); ++r)
        statistics.push_back({values.at(first + 3 * r).toTensor(), values.at(first + 3 * r + 1).toTensor(),
                              values.at(first + 3 * r + 2).toTensor()});
    return out;
}

Probe::Output Probe::run(const torch::Tensor &input, const std::vector<int> &which) const
{
    std::vector<Reduced> none;
    return run(input, which, {}, none);
}

} // namespace convscope
