#pragma once
// Projects units and class scores of a model back to its input (gradient, deconvnet, guided backprop; Grad-CAM and
// guided Grad-CAM) through the model's own TorchScript graph, for any architecture.
//
// Units: the derivative of one activation — (layer, channel) at a position or at the channel's spatial maximum —
// with respect to the preprocessed input, under a BackpropRule. Images of a batch are independent (the model runs
// in eval mode), so one forward and one backward pass project a different unit for every image of a batch: the 9
// top patches of a unit cost one pass.
// Class scores: the derivative of a class logit (pre-softmax), row i of the batch for classes[i].
// Grad-CAM (Selvaraju et al. 2017): ReLU(Σ_c α_c A_c) with α_c the spatial mean of d logit / d A_c, A the layer's
// output, bilinearly upsampled to the input size (align_corners = false). Guided Grad-CAM multiplies guided
// backprop by the upsampled map.
//
// All results are raw (not normalised); tensors are float32 on the CPU. Images go in as the model takes them
// (Preprocessor::tensor: its channel order); maps with respect to the input come out in RGB order, ready to show
// (a BGR model's are swapped back, Preprocessor::inRgbOrder). Thread-safe: graphs are built once per
// (layer, rule) under a mutex, runs share nothing.
#include "explain/BackpropGraph.h"
#include "explain/BackpropRule.h"

#include <torch/script.h>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

namespace convscope {

class Model;

/// A unit of a layer: channel, and the position in the layer's map (y, x < 0: the channel's spatial maximum).
/// Ignored positions for fully connected layers.
struct UnitTarget {
    int channel = 0;
    int y = -1;
    int x = -1;
};

struct UnitReconstruction {
    torch::Tensor map;  ///< C×H×W: d activation / d input (preprocessed input space, planes in RGB order)
    float value = 0;    ///< the unit's activation
    int y = 0, x = 0;   ///< position used (0, 0 for fully connected layers)
};

struct GradCamResult {
    torch::Tensor cam;       ///< N×h×w at the layer's resolution, ≥ 0
    torch::Tensor upsampled; ///< N×H×W at the input's resolution, ≥ 0
    torch::Tensor weights;   ///< N×C: α, the channel weights
};

class Reconstructor {
public:
    /// Uses the model's own weights.
    explicit Reconstructor(std::shared_ptr<const Model> model);
    /// Runs the model's graph with the parameters of `weights`, a module of the same structure (a modified
    /// deepcopy, e.g. for SanityCheck).
    Reconstructor(std::shared_ptr<const Model> model, torch::jit::Module weights);
    ~Reconstructor();

    /// One unit per image: targets[i] for batch row i (N×C×H×W). `layer` is a LayerInfo index whose output is
    /// N×C×H×W or N×C. Throws UsageError (bad layer/channel/position), UnsupportedModelError.
    std::vector<UnitReconstruction> units(const torch::Tensor &batch, int layer,
                                          const std::vector<UnitTarget> &targets, BackpropRule rule) const;
    /// One image (C×H×W or 1×C×H×W).
    UnitReconstruction unit(const torch::Tensor &image, int layer, const UnitTarget &target,
                            BackpropRule rule) const;

    /// N×C×H×W: d logit[classes[i]] / d input for row i. Throws UsageError for a class out of range.
    torch::Tensor classSaliency(const torch::Tensor &batch, const std::vector<int> &classes, BackpropRule rule) const;
    /// Grad-CAM of classes[i] for row i at `layer` (a LayerInfo index with an N×C×h×w output).
    GradCamResult gradCam(const torch::Tensor &batch, const std::vector<int> &classes, int layer) const;
    /// N×C×H×W: guided backprop × upsampled Grad-CAM.
    torch::Tensor guidedGradCam(const torch::Tensor &batch, const std::vector<int> &classes, int layer) const;

    /// The layer Grad-CAM uses by default: the last capturable call with a 4-D output larger than 1×1. -1 if none.
    int defaultCamLayer() const;
    /// Activations the rule leaves with their ordinary gradient on the way from `layer` (-1: the model output).
    std::vector<std::string> uncovered(BackpropRule rule, int layer = -1) const;

    const Model &model() const { return *model_; }

private:
    const BackpropGraph &graphFor(int layer, bool keepModelOutput, BackpropRule rule) const;
    torch::Tensor batchOf(const torch::Tensor &images) const;
    void checkClasses(const std::vector<int> &classes, int64_t rows) const;

    std::shared_ptr<const Model> model_;
    torch::jit::Module weights_;
    mutable std::mutex mutex_;
    mutable std::map<std::tuple<int, bool, int>, std::unique_ptr<BackpropGraph>> graphs_;
};

} // namespace convscope
