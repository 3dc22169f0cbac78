#pragma once
// "Sanity checks for saliency maps" (Adebayo et al. 2018), cascading randomisation: re-initialise the model's
// parameterised layers one by one from the top (classifier first) and measure how much each explanation of the
// same image and class changes — Spearman rank correlation of the original map with the map of the damaged model.
// A method whose maps barely change while the learned weights are destroyed shows the image, not the model.
//
// Maps are compared as H×W importance: Σ_c |v| for input-space methods, the upsampled map for Grad-CAM.
// Re-initialisation: PyTorch's default for the layer type — weights (≥ 2-D) and their biases U(±1/√fan_in),
// 1-D weights of norm layers 1 and their biases 0; seeded. The model itself is never modified (a deep copy is).
//
// Usage: SanityCheck check(model, image, options); while (!check.done()) check.run(1); — one step per call so
// callers can report progress and cancel.
#include "explain/Reconstructor.h"
#include "tiles/TileSet.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace convscope {

class SanityCheck {
public:
    enum class Method { Gradient, Guided, Deconvnet, GradCam, GuidedGradCam };
    static const char *methodName(Method m);

    struct Options {
        /// Explanations to compare (rows of the figure).
        std::vector<Method> methods{Method::Gradient, Method::Guided, Method::GradCam, Method::GuidedGradCam};
        int classIndex = -1;   ///< class explained; -1 = the model's prediction for the image
        int camLayer = -1;     ///< Grad-CAM layer (LayerInfo index); -1 = Reconstructor::defaultCamLayer()
        int maxSteps = 0;      ///< layers to re-initialise at most (0 = all parameterised layers)
        std::uint64_t seed = 1; ///< seed of the re-initialisation
    };

    struct Step {
        std::string layer;                 ///< the layer re-initialised at this step ("" for the original model)
        std::vector<torch::Tensor> maps;   ///< per method, H×W importance
        std::vector<double> correlation;   ///< per method, Spearman ρ with the original map (1 for the original)
    };

    /// `image`: the model's input for one image (C×H×W, normalised). Throws UsageError / UnsupportedModelError.
    SanityCheck(std::shared_ptr<const Model> model, const torch::Tensor &image, Options options);

    /// Steps in all (the original model counts as one).
    int steps() const { return static_cast<int>(layers_.size()) + 1; }
    bool done() const { return static_cast<int>(results_.size()) == steps(); }
    /// Computes up to `count` more steps.
    void run(int count);
    const std::vector<Step> &results() const { return results_; }
    int classIndex() const { return class_; }
    const Options &options() const { return options_; }
    const Model &model() const { return *model_; }

    /// Spearman rank correlation of two maps of equal size (average ranks for ties); 0 when one is constant.
    static double spearman(const torch::Tensor &a, const torch::Tensor &b);

    /// The figure: one row per method, one column per step (original first), each map in the heat ramp captioned
    /// with ρ. Only the steps computed so far.
    TileSet figure() const;

private:
    torch::Tensor explain(Method m);
    void reinitialise(const std::string &modulePath);

    std::shared_ptr<const Model> model_;
    torch::Tensor image_;
    Options options_;
    int class_ = 0;
    int camLayer_ = -1;
    std::vector<std::string> layers_; ///< module paths, top first
    torch::jit::Module copy_;
    std::unique_ptr<Reconstructor> reconstructor_;
    std::vector<Step> results_;
};

} // namespace convscope
