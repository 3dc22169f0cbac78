#pragma once
// Images synthesised to excite a unit (activation maximisation; the Deep Visualization Toolbox's "optimized image",
// Olah et al.'s feature visualization), for any model Convscope opens: gradient ascent on the input through the
// model's own graph (BackpropGraph with the ordinary gradient), with what keeps the result readable:
//   - a decorrelated parametrisation (FourierImage: spectrum scaled by 1/frequency, colours decorrelated),
//   - robustness to small transformations: each step sees the images jittered, scaled and rotated at random,
//   - a regulariser of choice (L2 towards grey, total variation, or a blur penalty),
//   - a diversity term: several images per unit pushed apart in the layer's feature style (Gram matrices).
//
// Objective of image b, with A the target layer's output (N×C×h×w or N×C) for the transformed, normalised image:
//   neuron (default):  A[b, c, y, x] — the given position, else the map's centre (h/2, w/2): the unit's receptive
//                      field there is what the image shows most clearly, as the Deep Visualization Toolbox does
//   channel:           mean over positions of A[b, c] (a texture over the whole image; Olah et al.'s default)
//   fc layer:          A[b, c]                                      class logit: logits[b, class]
// Loss minimised (Adam on the spectrum; sums over images, so an image's gradient does not depend on the batch):
//   −Σ_b objective_b + regularizerWeight · Σ_b R(image_b) + diversityWeight · Σ over targets of the mean pairwise
//   cosine similarity between the flattened Gram matrices (A_b A_bᵀ / hw; A_b itself for N×C layers) of its images
//   R (per image, means over channels and pixels): L2 = mean((x − ½)²); TV = mean |x[y+1] − x[y]| + mean
//   |x[x+1] − x[x]|; blur = mean((x − box3(x)ᵀ)²) with box3 the 3×3 mean (edges: mean of the pixels inside) and ᵀ
//   no gradient.
// Transform of a step (one for the whole batch): sample the image at θ·p (affine_grid / grid_sample, bilinear,
// reflection padding, align_corners false) with θ = [[cos a / s, −sin a / s, 2dx/W], [sin a / s, cos a / s, 2dy/H]]
// (s: scale, a: angle, dx, dy: shift in pixels). Then pixels × range, minus mean, divided by std (the model's input
// spec) — the model sees what it would see for a dataset image.
//
// A unit whose objective is 0 behind a ReLU, or whose gradient is 0 (rectifiers before it all off or saturated), has
// nothing to climb; its images climb the same objective with every rectifier leaking a tenth of the gradient where it
// is off (BackpropRule::Leaky, through the model's own graph, so residual blocks too) until the gradient flows; then
// the true gradient takes over.
//
// Usage: UnitSynthesizer s(model, targets, options); while (!s.run(16, progress)) {} ; s.result();
// Stopping early keeps the images of the last finished step. Thread-safe for distinct objects.
#include "explain/FourierImage.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace convscope {

class BackpropGraph;
class Model;
class Progress;

class UnitSynthesizer {
public:
    enum class Regularizer { None, L2, TotalVariation, Blur };
    /// What a map unit's images maximise when the target has no position (see the header comment).
    enum class Objective { Neuron, Channel };

    struct Options {
        int steps = 256;              ///< optimisation steps; more = stronger, more detailed images
        Objective objective = Objective::Neuron;
        double learningRate = 0.05;   ///< Adam's step on the spectrum
        int images = 1;               ///< images per target (> 1: diverse images, see diversityWeight)
        double diversityWeight = 0;   ///< pushes a target's images apart; 0 = off (default 1 when images > 1, CLI)
        Regularizer regularizer = Regularizer::None;
        double regularizerWeight = 0; ///< weight of R (0 = off); try 1–10 for TV, 0.1–1 for L2 at unit-scale maps
        double jitter = 0.04;         ///< largest random shift per step, as a fraction of the image side
        double scaleRange = 0.1;      ///< scale drawn in [1 − r, 1 + r] per step
        double rotationDegrees = 10;  ///< angle drawn in [−d, d] per step
        int size = 0;                 ///< image side in pixels; 0 = the model's input size (height × width)
        int batch = 16;               ///< images optimised together (memory: batch × one forward and backward pass)
        std::uint64_t seed = 1;       ///< same seed, options and model: the same images
        FourierImage::Options parametrisation; ///< decay, amplitude, colour matrix (sizes are set from the model)
    };

    /// What to excite: a unit of a layer (a LayerInfo index; position < 0: the map's centre, or the channel's mean
    /// with Objective::Channel) or, with layer = -1, a class logit (channel = the class).
    struct Target {
        int layer = -1;
        int channel = 0;
        int y = -1, x = -1;
    };

    /// A transformation of one step (see the header comment).
    struct Transform {
        double dx = 0, dy = 0;   ///< shift in pixels
        double scale = 1;
        double angleDegrees = 0;
    };

    struct Result {
        torch::Tensor images;        ///< T·images × C×H×W in [0, 1], target-major (target t: rows t·images…)
        /// (T·images)×units: every unit of the layer (every class for logits) on every final image, untransformed —
        /// the spatial maximum of each channel for maps, as the scan ranks units.
        torch::Tensor responses;
        std::vector<float> objective; ///< per image: its target's value as the scan ranks it (spatial max / fc / logit)
        std::vector<double> loss;    ///< mean loss per image of every finished step, batch after batch
        int stepsDone = 0;           ///< steps of the batch being optimised (of the last, once all are done)
        int batchesDone = 0;         ///< batches finished (their images final)
    };

    /// Throws UsageError for bad targets (layer, channel, position, all targets must share one layer) or options.
    UnitSynthesizer(std::shared_ptr<const Model> model, std::vector<Target> targets, Options options);
    ~UnitSynthesizer();

    /// Runs up to `steps` more optimisation steps; true when every batch is done. Batches of `Options::batch` images
    /// run one after another (a wide layer holds one batch's optimiser state at a time); progress counts steps of
    /// all batches. Throws CancelledError when `progress` asks (the images of the finished steps stay in result()).
    bool run(int steps, Progress *progress = nullptr);
    /// The images of the batches started so far — the finished ones' final, the current one's as far as optimised —
    /// with their responses (all targets once run() returned true). Target-major.
    const Result &result();

    /// One step's loss for batch 0 under a given transform, differentiable with respect to spectrum(0) (tests
    /// compare its gradient with PyTorch's). `escape`: through the leaky-rectifier graph dead units climb.
    torch::Tensor loss(const Transform &transform, bool escape = false);
    /// The spectrum of batch `i` while it is optimised (batch 0 from the start; see FourierImage::spectrum()).
    torch::Tensor &spectrum(size_t i);
    size_t batches() const { return batches_.size(); }

    /// Every unit of a layer (channels 0..C−1), `images` each.
    static std::vector<Target> layerTargets(const Model &model, int layer);

private:
    struct Batch;
    /// The loss through `graph`; `objectives` receives each row's objective (detached).
    torch::Tensor lossOf(Batch &batch, const Transform &transform, const BackpropGraph &graph,
                         torch::Tensor &objectives);
    /// d loss / d spectrum of a batch for one step (with the dead-unit escape, see the .cpp).
    torch::Tensor gradientOf(Batch &batch, const Transform &transform, double &loss);
    const BackpropGraph &escapeGraph(); ///< built on first use
    torch::Tensor modelInput(const torch::Tensor &images) const;
    torch::Tensor layerOutput(const BackpropGraph &graph, const torch::Tensor &input) const;
    Transform randomTransform();
    void start(Batch &batch);   ///< its spectrum and optimiser
    void measure(Batch &batch); ///< its images and their responses now

    std::shared_ptr<const Model> model_;
    std::vector<Target> targets_;
    Options options_;
    int layer_ = -1;
    int height_ = 0, width_ = 0, channels_ = 0;
    const BackpropGraph *graph_ = nullptr;
    std::unique_ptr<BackpropGraph> ownedGraph_;
    std::unique_ptr<BackpropGraph> escapeGraph_; ///< leaky rectifiers, built when a unit starts dead
    std::vector<std::unique_ptr<Batch>> batches_;
    std::mt19937_64 random_;
    size_t current_ = 0; ///< the batch being optimised (batches_.size(): all done)
    Result result_;
};

const char *objectiveName(UnitSynthesizer::Objective o);
/// "neuron", "channel". Throws UsageError.
UnitSynthesizer::Objective parseObjective(const std::string &name);
const char *regularizerName(UnitSynthesizer::Regularizer r);
/// "none", "l2", "tv", "blur". Throws UsageError listing them.
UnitSynthesizer::Regularizer parseRegularizer(const std::string &name);

} // namespace convscope
