#pragma once
// The network part of an end-to-end adaptation: the model cut at the descriptor's layer (AdaptedModelWriter::cut),
// with the last `blocks` layers that have weights — convolutions and fully connected layers, counted back from the
// layer — and every module with parameters called between the first of them and the layer (their batch norms)
// made trainable; all other weights stay as they are. Batch norm keeps its running statistics (eval mode), the
// usual choice for small fine-tuning batches.
//
// describe() runs images through the cut network and pools them like the stored features (fc / spoc / mac), with
// autograd when grad mode is on, so HeadTrainer can train the head and these layers together.
#include "scan/FeaturePooling.h"

#include <torch/script.h>

#include <string>
#include <vector>

namespace convscope {

class Model;

class BackboneTuner {
public:
    /// Throws UsageError (blocks < 1, no layer with weights up to `layer`, pooling that does not fit the layer)
    /// and UnsupportedModelError (the graph cannot be cut).
    BackboneTuner(const Model &model, const std::string &layer, FeaturePooling pooling, int blocks);

    /// Pooled features (N×D float32) of a normalised input batch (N×C×H×W).
    torch::Tensor describe(const torch::Tensor &inputs) const;
    /// The trainable tensors (the cut module's own parameters), in a fixed order, and their names.
    const std::vector<torch::Tensor> &parameters() const { return parameters_; }
    const std::vector<std::string> &parameterNames() const { return names_; }
    /// Module paths of the layers being trained, in forward order ("features.conv4", "features.bn4").
    const std::vector<std::string> &layers() const { return layers_; }
    /// The cut module (its method `convscope_layer`), with the trained weights: what the adapted model saves.
    const torch::jit::Module &module() const { return module_; }

private:
    torch::jit::Module module_;
    FeaturePooling pooling_;
    std::vector<torch::Tensor> parameters_;
    std::vector<std::string> names_, layers_;
};

} // namespace convscope
