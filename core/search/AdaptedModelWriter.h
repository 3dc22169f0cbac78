#pragma once
// Saves an adapted descriptor as a model of its own: a TorchScript module whose forward takes the original model's
// input and returns the new descriptors (N×dims, L2-normalised) — the original network up to the chosen layer, the
// pooling (fc / spoc / mac), and the projection head — plus a sidecar with the original input preprocessing. Any
// TorchScript runtime (Python `torch.jit.load`, LibTorch, Convscope itself) can run it; in Convscope its layer
// "head" is the descriptor.
//
// The backbone is cut from the probe graph (ProbeGraphBuilder) of a copy of the model, so every architecture the
// probe reads works, skip connections included; the original module is not modified.
#include "scan/FeaturePooling.h"
#include "search/ProjectionHead.h"

#include <torch/script.h>

#include <string>

namespace convscope {

class Model;

class AdaptedModelWriter {
public:
    /// The adapted model's layer that outputs the descriptor.
    static constexpr const char *headLayer = "head";

    /// Writes `path` (TorchScript) and the sidecar next to it (`path` without ".pt", plus ".json"). `title` names
    /// the model in the sidecar. Throws UsageError (layer unknown or not capturable, pooling that does not fit the
    /// layer), UnsupportedModelError (the graph cannot be cut), IoError.
    /// `trained`: the backbone to save (from cut(), its parameters fine-tuned); null = cut `model` as it is.
    static void write(const Model &model, const std::string &layer, FeaturePooling pooling,
                      const ProjectionHead &head, const std::string &path, const std::string &title,
                      const torch::jit::Module *trained = nullptr);

    /// A copy of `model`'s module with a method `convscope_layer(x)` that returns the output of `layer` (the
    /// network cut there, computed with autograd when its parameters require gradients). The copy's parameters
    /// are its own: training them leaves `model` unchanged. Throws UsageError, UnsupportedModelError.
    static torch::jit::Module cut(const Model &model, const std::string &layer);
};

} // namespace convscope
