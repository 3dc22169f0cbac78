#include "search/BackboneTuner.h"

#include "common/Error.h"
#include "model/Model.h"
#include "search/AdaptedModelWriter.h"

#include <torch/torch.h>

#include <set>

namespace convscope {

BackboneTuner::BackboneTuner(const Model &model, const std::string &layer, FeaturePooling pooling, int blocks)
    : pooling_(pooling)
{
    if (blocks < 1)
        throw UsageError("fine-tuning needs at least 1 layer with weights");
    const LayerInfo &target = model.layer(layer);
    (void)featureName(target, pooling); // UsageError when the pooling does not fit the layer
    const auto &all = model.layers();
    int first = -1, found = 0;
    for (int i = target.index; i >= 0 && found < blocks; --i) {
        const LayerInfo &l = all[static_cast<size_t>(i)];
        if (l.params > 0 && (l.kind == LayerKind::Conv || l.kind == LayerKind::Linear)) {
            ++found;
            first = i;
        }
    }
    if (first < 0)
        throw UsageError("layer '" + target.path + "' has no convolution or fully connected layer before it to "
                         "fine-tune");
    std::set<std::string> modules;
    for (int i = first; i <= target.index; ++i) {
        const LayerInfo &l = all[static_cast<size_t>(i)];
        if (l.params > 0 && l.kind != LayerKind::Block && modules.insert(l.modulePath).second)
            layers_.push_back(l.modulePath);
    }
    module_ = AdaptedModelWriter::cut(model, target.path);
    for (const auto &p : module_.named_parameters(true)) {
        const std::string &name = p.name;
        const auto dot = name.rfind('.');
        const bool tuned = dot != std::string::npos && modules.count(name.substr(0, dot)) > 0;
        p.value.set_requires_grad(tuned);
        if (tuned) {
            names_.push_back(name);
            parameters_.push_back(p.value);
        }
    }
    if (parameters_.empty())
        throw UsageError("the layers to fine-tune before '" + target.path + "' hold no parameters of their own");
}

torch::Tensor BackboneTuner::describe(const torch::Tensor &inputs) const
{
    torch::jit::Module m = module_; // a handle: run_method is not const
    torch::Tensor out = m.run_method("convscope_layer", inputs).toTensor().to(torch::kFloat32);
    if (pooling_ == FeaturePooling::None)
        return out.flatten(1);
    return pooling_ == FeaturePooling::Average ? out.mean({2, 3}) : out.amax({2, 3});
}

} // namespace convscope
