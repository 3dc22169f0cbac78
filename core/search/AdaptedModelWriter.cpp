#include "search/AdaptedModelWriter.h"

#include "common/Error.h"
#include "model/Model.h"
#include "model/ModelSidecarWriter.h"
#include "model/ProbeGraphBuilder.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/script.h>

namespace convscope {

namespace {

/// TorchScript source of the head's forward: pooling, L2 normalisation, linear (+ residual hidden) map, L2.
std::string headSource(FeaturePooling pooling, bool hidden)
{
    const char *pool = pooling == FeaturePooling::Average ? "torch.mean(x, [2, 3])"
                       : pooling == FeaturePooling::Max   ? "torch.amax(x, [2, 3])"
                                                          : "torch.flatten(x, 1)";
    std::string s = "def forward(self, x: Tensor) -> Tensor:\n"
                    "    f = " + std::string(pool) + "\n"
                    "    f = f / torch.clamp_min(torch.sqrt(torch.sum(f * f, [1], True)), 1e-12)\n"
                    "    y = torch.addmm(self.bias, f, self.weight)\n";
    if (hidden)
        s += "    y = y + torch.mm(torch.relu(torch.addmm(self.hidden_bias, f, self.hidden_weight)), "
             "self.output_weight)\n";
    s += "    return y / torch.clamp_min(torch.sqrt(torch.sum(y * y, [1], True)), 1e-12)\n";
    return s;
}

torch::jit::Module headModule(FeaturePooling pooling, const ProjectionHead &head)
{
    torch::jit::Module m(c10::QualifiedName("__torch__.convscope.ProjectionHead"),
                         std::make_shared<torch::jit::CompilationUnit>(), true);
    m.register_attribute("training", c10::BoolType::get(), false);
    auto param = [&](const char *name, const torch::Tensor &t) {
        m.register_parameter(name, t.detach().clone().contiguous(), false);
    };
    param("weight", head.weight());
    param("bias", head.bias());
    const bool hidden = head.hiddenWeight().defined();
    if (hidden) {
        param("hidden_weight", head.hiddenWeight());
        param("hidden_bias", head.hiddenBias());
        param("output_weight", head.outputWeight());
    }
    m.define(headSource(pooling, hidden));
    return m;
}

} // namespace

torch::jit::Module AdaptedModelWriter::cut(const Model &model, const std::string &layer)
{
    const LayerInfo &info = model.layer(layer);
    torch::jit::Module backbone = model.module().clone();
    backbone.eval();
    ProbeGraph probe;
    try {
        probe = ProbeGraphBuilder(backbone).build();
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        throw UnsupportedModelError(std::string("cannot cut the model at '") + layer + "': " + e.what());
    }
    const int output = probe.calls.at(static_cast<size_t>(info.index)).output;
    if (output < 0)
        throw UsageError("layer '" + layer + "' cannot be captured: " +
                         probe.calls.at(static_cast<size_t>(info.index)).whyNot);
    auto graph = probe.graph->copy();
    torch::jit::Value *kept = graph->outputs().at(static_cast<size_t>(output));
    while (!graph->outputs().empty())
        graph->eraseOutput(graph->outputs().size() - 1);
    graph->registerOutput(kept);
    torch::jit::EliminateDeadCode(graph);
    try {
        auto cu = backbone._ivalue()->compilation_unit();
        torch::jit::Function *fn =
            cu->create_function(c10::QualifiedName(*backbone.type()->name(), "convscope_layer"), graph);
        backbone.type()->addMethod(fn);
    } catch (const c10::Error &e) {
        throw UnsupportedModelError("cannot cut the model at '" + layer + "': " + e.what_without_backtrace());
    }
    return backbone;
}

void AdaptedModelWriter::write(const Model &model, const std::string &layer, FeaturePooling pooling,
                               const ProjectionHead &head, const std::string &path, const std::string &title,
                               const torch::jit::Module *trained)
{
    const LayerInfo &info = model.layer(layer);
    (void)featureName(info, pooling); // UsageError when the pooling does not fit the layer
    const torch::jit::Module backbone = trained ? *trained : cut(model, layer);
    try {
        torch::jit::Module adapted(c10::QualifiedName("__torch__.convscope.AdaptedDescriptor"),
                                   std::make_shared<torch::jit::CompilationUnit>(), true);
        adapted.register_attribute("training", c10::BoolType::get(), false);
        adapted.register_module("backbone", backbone);
        adapted.register_module(headLayer, headModule(pooling, head));
        adapted.define("def forward(self, x: Tensor) -> Tensor:\n"
                       "    return self.head.forward(self.backbone.convscope_layer(x))\n");
        adapted.save(path);
    } catch (const c10::Error &e) {
        throw UnsupportedModelError("cannot write the adapted model: " + std::string(e.what_without_backtrace()));
    }

    const QJsonObject input = ModelSidecarWriter::inputJson(model.input());
    QJsonArray labels; // the original model's class names (its sidecar's), kept for whatever showed them
    for (const auto &l : model.sidecar().labels)
        labels.append(QString::fromStdString(l));
    const QJsonObject sidecar{
        {"name", QString::fromStdString(title)},
        {"description", QString::fromStdString("descriptor adapted from " + model.path() + " at " + info.path +
                                               " (" + descriptorName(pooling) + "), " +
                                               std::to_string(head.outputDims()) + "-d")},
        {"input", input},
        {"labels", labels},
        {"layer_names", QJsonObject{{headLayer, "adapted descriptor"}}}};
    QString json = QString::fromStdString(path);
    if (json.endsWith(".pt"))
        json.chop(3);
    json += ".json";
    QFile f(json);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        f.write(QJsonDocument(sidecar).toJson()) < 0)
        throw IoError("cannot write '" + json.toStdString() + "': " + f.errorString().toStdString());
}

} // namespace convscope
