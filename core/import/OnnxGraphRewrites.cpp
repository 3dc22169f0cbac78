#include "import/OnnxGraphRewrites.h"

#include "import/OnnxFile.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace convscope {

onnx::ModelProto OnnxGraphRewrites::fuseHardSwish(onnx::ModelProto out)
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

bool OnnxGraphRewrites::inlineConstantIfs(onnx::ModelProto &model, const OnnxConstants &constants)
{
    std::vector<onnx::NodeProto> nodes;
    bool changed = false;
    for (const auto &node : model.graph().node()) {
        auto cond = node.op_type() == "If" && node.domain().empty() && node.input_size() == 1
                        ? constants.find(node.input(0))
                        : constants.end();
        if (cond == constants.end() || cond->second.numel() != 1) {
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
    auto *graph = model.mutable_graph();
    graph->clear_node();
    for (auto &n : nodes)
        *graph->add_node() = std::move(n);
    return true;
}

std::vector<std::string> OnnxGraphRewrites::acceptChannelsFirst(onnx::ModelProto &model)
{
    std::vector<std::string> changed;
    std::vector<std::string> inputs;
    for (const auto &input : model.graph().input())
        if (OnnxFile::isChannelsLastImage(model, input.name()))
            inputs.push_back(input.name());
    auto *graph = model.mutable_graph();
    for (auto &input : *graph->mutable_input()) {
        if (std::find(inputs.begin(), inputs.end(), input.name()) == inputs.end())
            continue;
        auto *dims = input.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim();
        const onnx::TensorShapeProto_Dimension h = dims->Get(1), w = dims->Get(2), c = dims->Get(3);
        *dims->Mutable(1) = c;
        *dims->Mutable(2) = h;
        *dims->Mutable(3) = w;
        for (auto &node : *graph->mutable_node()) {
            if (node.op_type() != "Transpose" || node.input_size() != 1 || node.input(0) != input.name())
                continue;
            node.set_op_type("Identity");
            node.clear_attribute();
        }
        changed.push_back(input.name());
    }
    return changed;
}

} // namespace convscope
