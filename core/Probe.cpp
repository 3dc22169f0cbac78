#include "Probe.h"

#include "Error.h"
#include "TorchMessage.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <algorithm>

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

const Probe::Variant &Probe::variantFor(const std::vector<int> &outputs) const
{
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = variants_.find(outputs);
    if (it != variants_.end())
        return *it->second;
    auto graph = graph_.graph->copy();
    auto variant = std::make_unique<Variant>();
    // Keep output 0 (the model's result) and the selected captures; drop the rest from the back.
    for (size_t i = graph->outputs().size(); i-- > 1;)
        if (!std::binary_search(outputs.begin(), outputs.end(), static_cast<int>(i)))
            graph->eraseOutput(i);
    for (size_t k = 0; k < outputs.size(); ++k)
        variant->position[outputs[k]] = k + 1;
    // Functions return one value: pack (model output, captures...) into a tuple.
    std::vector<torch::jit::Value *> values(graph->outputs().begin(), graph->outputs().end());
    while (!graph->outputs().empty())
        graph->eraseOutput(graph->outputs().size() - 1);
    graph->setInsertPoint(graph->return_node());
    graph->registerOutput(graph->insertNode(graph->createTuple(values))->output());
    torch::jit::EliminateDeadCode(graph);
    variant->function = std::make_unique<torch::jit::GraphFunction>("convscope_probe", graph, nullptr);
    return *variants_.emplace(outputs, std::move(variant)).first->second;
}

Probe::Output Probe::run(const torch::Tensor &input, const std::vector<int> &which) const
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
    std::sort(outputs.begin(), outputs.end());
    outputs.erase(std::unique(outputs.begin(), outputs.end()), outputs.end());
    const Variant &variant = variantFor(outputs);

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
    return out;
}

} // namespace convscope
