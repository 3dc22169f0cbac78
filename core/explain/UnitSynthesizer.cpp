#include "explain/UnitSynthesizer.h"

#include "common/Error.h"
#include "common/Progress.h"
#include "data/Preprocessor.h"
#include "explain/BackpropGraph.h"
#include "model/Model.h"

#include <algorithm>
#include <cmath>

namespace convscope {

namespace {

constexpr double kPi = 3.14159265358979323846;

torch::Tensor regularizerOf(UnitSynthesizer::Regularizer r, const torch::Tensor &x)
{
    // Per image (B), summed by the caller.
    switch (r) {
    case UnitSynthesizer::Regularizer::L2:
        return (x - 0.5).pow(2).mean({1, 2, 3});
    case UnitSynthesizer::Regularizer::TotalVariation: {
        using torch::indexing::Slice;
        const torch::Tensor dy = (x.index({Slice(), Slice(), Slice(1), Slice()}) -
                                  x.index({Slice(), Slice(), Slice(0, -1), Slice()}))
                                     .abs()
                                     .mean({1, 2, 3});
        const torch::Tensor dx = (x.index({Slice(), Slice(), Slice(), Slice(1)}) -
                                  x.index({Slice(), Slice(), Slice(), Slice(0, -1)}))
                                     .abs()
                                     .mean({1, 2, 3});
        return dy + dx;
    }
    case UnitSynthesizer::Regularizer::Blur: {
        const torch::Tensor blurred =
            torch::avg_pool2d(x.detach(), {3, 3}, {1, 1}, {1, 1}, false, /*count_include_pad=*/false);
        return (x - blurred).pow(2).mean({1, 2, 3});
    }
    case UnitSynthesizer::Regularizer::None:
        break;
    }
    return torch::zeros({x.size(0)});
}

/// Mean pairwise cosine similarity of the rows of `features` (n×d), n ≥ 2.
torch::Tensor meanPairwiseSimilarity(const torch::Tensor &features)
{
    const int64_t n = features.size(0);
    const torch::Tensor unit = features / features.norm(2, {1}, true).clamp_min(1e-12);
    const torch::Tensor sims = unit.mm(unit.t());
    return (sims.sum() - sims.diagonal().sum()) / static_cast<double>(n * (n - 1));
}

} // namespace

/// Targets optimised together. Batches run one after another: only the batch being optimised holds a spectrum and
/// its optimiser's state; a finished one keeps its images and their responses.
struct UnitSynthesizer::Batch {
    struct State {
        State(const FourierImage::Options &o, std::uint64_t seed, double lr)
            : image(o, seed), optimizer(std::vector<torch::Tensor>{image.spectrum()}, torch::optim::AdamOptions(lr))
        {
        }
        FourierImage image;
        torch::optim::Adam optimizer;
    };
    FourierImage::Options parametrisation;
    std::uint64_t seed = 0;
    size_t firstTarget = 0; ///< targets firstTarget.. of this batch, `images` rows each
    size_t targets = 0;
    std::unique_ptr<State> state; ///< while it is optimised
    int stepsDone = 0;
    torch::Tensor images, responses;                ///< once computed (finished: final)
    std::vector<float> objective;                   ///< per image, with `responses`
};

const char *objectiveName(UnitSynthesizer::Objective o)
{
    return o == UnitSynthesizer::Objective::Channel ? "channel" : "neuron";
}

UnitSynthesizer::Objective parseObjective(const std::string &name)
{
    if (name == "neuron")
        return UnitSynthesizer::Objective::Neuron;
    if (name == "channel")
        return UnitSynthesizer::Objective::Channel;
    throw UsageError("unknown objective '" + name + "' (neuron or channel)");
}

const char *regularizerName(UnitSynthesizer::Regularizer r)
{
    switch (r) {
    case UnitSynthesizer::Regularizer::None: return "none";
    case UnitSynthesizer::Regularizer::L2: return "l2";
    case UnitSynthesizer::Regularizer::TotalVariation: return "tv";
    case UnitSynthesizer::Regularizer::Blur: return "blur";
    }
    return "none";
}

UnitSynthesizer::Regularizer parseRegularizer(const std::string &name)
{
    for (auto r : {UnitSynthesizer::Regularizer::None, UnitSynthesizer::Regularizer::L2,
                   UnitSynthesizer::Regularizer::TotalVariation, UnitSynthesizer::Regularizer::Blur})
        if (name == regularizerName(r))
            return r;
    throw UsageError("unknown regulariser '" + name + "' (none, l2, tv or blur)");
}

UnitSynthesizer::UnitSynthesizer(std::shared_ptr<const Model> model, std::vector<Target> targets, Options options)
    : model_(std::move(model)), targets_(std::move(targets)), options_(std::move(options)), random_(options_.seed)
{
    if (targets_.empty())
        throw UsageError("nothing to synthesise: no units given");
    if (options_.steps < 1 || options_.images < 1 || options_.batch < 1 || !(options_.learningRate > 0))
        throw UsageError("synthesis needs at least one step, one image per unit and a positive learning rate");
    if (options_.size < 0 || options_.size > 4096)
        throw UsageError("image size " + std::to_string(options_.size) + " is out of range (0 = the model's input)");
    layer_ = targets_.front().layer;
    const auto &layers = model_->layers();
    if (layer_ >= static_cast<int>(layers.size()))
        throw UsageError("no layer with index " + std::to_string(layer_));
    std::vector<int> outputs;
    int64_t units = model_->numClasses();
    std::vector<int64_t> shape;
    if (layer_ >= 0) {
        const LayerInfo &info = layers[static_cast<size_t>(layer_)];
        const ModuleCall &call = model_->probe().calls().at(static_cast<size_t>(info.index));
        if (call.output < 0)
            throw UsageError("the output of '" + info.path + "' cannot be captured: " + call.whyNot);
        shape = info.outputShape;
        if (shape.size() != 4 && shape.size() != 2)
            throw UsageError("layer '" + info.path + "' has no units to excite (its output is not a map or a vector)");
        units = shape[1];
        outputs.push_back(call.output);
    } else if (units <= 0) {
        throw UsageError("the model's output is not a vector of class scores; choose a layer");
    }
    for (const Target &t : targets_) {
        if (t.layer != layer_)
            throw UsageError("all units of one synthesis must belong to the same layer");
        if (t.channel < 0 || t.channel >= units)
            throw UsageError(std::string(layer_ < 0 ? "the model has " : "the layer has ") + std::to_string(units) +
                             (layer_ < 0 ? " classes" : " units") + "; there is no " + std::to_string(t.channel));
        if (shape.size() == 4 && options_.size == 0 && (t.y >= shape[2] || t.x >= shape[3]))
            throw UsageError("position (" + std::to_string(t.y) + ", " + std::to_string(t.x) +
                             ") is outside the layer's " + std::to_string(shape[2]) + "×" +
                             std::to_string(shape[3]) + " map");
    }
    const InputSpec &in = model_->input();
    channels_ = in.channels;
    height_ = options_.size > 0 ? options_.size : in.height;
    width_ = options_.size > 0 ? options_.size : in.width;
    ownedGraph_ = std::make_unique<BackpropGraph>(model_->probe().probeGraph(), outputs, layer_ < 0,
                                                  BackpropRule::Gradient);
    graph_ = ownedGraph_.get();

    // Batches hold whole targets (their images stay together for the diversity term).
    const size_t perBatch = std::max<size_t>(1, static_cast<size_t>(options_.batch / options_.images));
    for (size_t first = 0; first < targets_.size(); first += perBatch) {
        FourierImage::Options o = options_.parametrisation;
        const size_t n = std::min(perBatch, targets_.size() - first);
        o.batch = static_cast<int>(n) * options_.images;
        o.channels = channels_;
        o.height = height_;
        o.width = width_;
        auto b = std::make_unique<Batch>();
        b->parametrisation = o;
        b->seed = options_.seed + 7919 * batches_.size();
        b->firstTarget = first;
        b->targets = n;
        batches_.push_back(std::move(b));
    }
    start(*batches_.front());
}

void UnitSynthesizer::start(Batch &b)
{
    b.state = std::make_unique<Batch::State>(b.parametrisation, b.seed, options_.learningRate);
}

UnitSynthesizer::~UnitSynthesizer() = default;

std::vector<UnitSynthesizer::Target> UnitSynthesizer::layerTargets(const Model &model, int layer)
{
    const auto &layers = model.layers();
    if (layer < 0 || layer >= static_cast<int>(layers.size()) || layers[static_cast<size_t>(layer)].outputShape.size() < 2)
        throw UsageError("no layer with units at index " + std::to_string(layer));
    std::vector<Target> targets;
    const int64_t units = layers[static_cast<size_t>(layer)].outputShape[1];
    for (int64_t c = 0; c < units; ++c)
        targets.push_back({layer, static_cast<int>(c), -1, -1});
    return targets;
}

torch::Tensor UnitSynthesizer::modelInput(const torch::Tensor &images) const
{
    const InputSpec &in = model_->input();
    std::vector<float> mean(static_cast<size_t>(channels_), 0.f), sd(static_cast<size_t>(channels_), 1.f);
    for (int c = 0; c < channels_; ++c) {
        if (c < static_cast<int>(in.mean.size()))
            mean[static_cast<size_t>(c)] = in.mean[static_cast<size_t>(c)];
        if (c < static_cast<int>(in.std.size()))
            sd[static_cast<size_t>(c)] = in.std[static_cast<size_t>(c)];
    }
    const torch::Tensor m = torch::tensor(mean).view({1, channels_, 1, 1});
    const torch::Tensor s = torch::tensor(sd).view({1, channels_, 1, 1});
    return (Preprocessor(in).inModelOrder(images) * in.range - m) / s; // the images are RGB
}

torch::Tensor UnitSynthesizer::layerOutput(const BackpropGraph &graph, const torch::Tensor &input) const
{
    const auto outs = graph.run(model_->module(), input);
    return layer_ < 0 ? Model::firstTensor(outs.at(0)) : outs.at(0).toTensor();
}

torch::Tensor UnitSynthesizer::lossOf(Batch &batch, const Transform &t, const BackpropGraph &graph,
                                      torch::Tensor &objectives)
{
    torch::Tensor x = batch.state->image.images();
    const torch::Tensor pixels = x;
    if (t.dx != 0 || t.dy != 0 || t.scale != 1 || t.angleDegrees != 0) {
        const double a = t.angleDegrees * kPi / 180.0, s = t.scale;
        const torch::Tensor theta =
            torch::tensor({std::cos(a) / s, -std::sin(a) / s, 2 * t.dx / width_, std::sin(a) / s, std::cos(a) / s,
                           2 * t.dy / height_},
                          torch::kFloat32)
                .view({1, 2, 3})
                .expand({x.size(0), 2, 3});
        const torch::Tensor grid = at::affine_grid_generator(theta, x.sizes(), false);
        x = at::grid_sampler(x, grid, /*bilinear*/ 0, /*reflection*/ 2, false);
    }
    const torch::Tensor out = layerOutput(graph, modelInput(x));
    if (out.dim() != 4 && out.dim() != 2)
        throw UnsupportedModelError("the chosen output has " + std::to_string(out.dim()) + " dimensions");
    const int64_t rows = out.size(0);
    std::vector<int64_t> channels;
    for (size_t i = 0; i < batch.targets; ++i)
        for (int k = 0; k < options_.images; ++k)
            channels.push_back(targets_[batch.firstTarget + i].channel);
    const torch::Tensor c = torch::tensor(channels, torch::kInt64);
    const torch::Tensor r = torch::arange(rows, torch::kInt64);
    torch::Tensor objective;
    if (out.dim() == 2) {
        objective = out.index({r, c});
    } else {
        const torch::Tensor maps = out.index({r, c}); // rows×h×w
        std::vector<torch::Tensor> values;
        for (int64_t i = 0; i < rows; ++i) {
            const Target &target = targets_[batch.firstTarget + static_cast<size_t>(i / options_.images)];
            if ((target.y < 0 || target.x < 0) && options_.objective == Objective::Channel) {
                values.push_back(maps[i].mean());
            } else {
                const int64_t y = target.y >= 0 ? target.y : maps.size(1) / 2;
                const int64_t x = target.x >= 0 ? target.x : maps.size(2) / 2;
                if (y >= maps.size(1) || x >= maps.size(2))
                    throw UsageError("position (" + std::to_string(y) + ", " + std::to_string(x) +
                                     ") is outside the layer's " + std::to_string(maps.size(1)) + "×" +
                                     std::to_string(maps.size(2)) + " map at this image size");
                values.push_back(maps[i][y][x]);
            }
        }
        objective = torch::stack(values);
    }
    objectives = objective.detach();
    torch::Tensor loss = -objective.sum();
    if (options_.regularizer != Regularizer::None && options_.regularizerWeight != 0)
        loss = loss + options_.regularizerWeight * regularizerOf(options_.regularizer, pixels).sum();
    if (options_.images > 1 && options_.diversityWeight != 0) {
        const int64_t n = options_.images;
        torch::Tensor style;
        if (out.dim() == 4) {
            const torch::Tensor flat = out.flatten(2); // rows×C×hw
            style = flat.bmm(flat.transpose(1, 2)).flatten(1) / static_cast<double>(flat.size(2));
        } else {
            style = out;
        }
        torch::Tensor diversity = torch::zeros({});
        for (int64_t g = 0; g * n < rows; ++g)
            diversity = diversity + meanPairwiseSimilarity(style.slice(0, g * n, g * n + n));
        loss = loss + options_.diversityWeight * diversity;
    }
    return loss;
}

torch::Tensor UnitSynthesizer::loss(const Transform &transform, bool escape)
{
    torch::Tensor objectives;
    if (!batches_.at(0)->state)
        throw UsageError("the first batch is already finished");
    return lossOf(*batches_.at(0), transform, escape ? escapeGraph() : *graph_, objectives);
}

const BackpropGraph &UnitSynthesizer::escapeGraph()
{
    if (!escapeGraph_) {
        std::vector<int> outputs;
        if (layer_ >= 0)
            outputs.push_back(
                model_->probe().calls().at(static_cast<size_t>(model_->layers()[static_cast<size_t>(layer_)].index)).output);
        escapeGraph_ = std::make_unique<BackpropGraph>(model_->probe().probeGraph(), outputs, layer_ < 0,
                                                       BackpropRule::Leaky);
    }
    return *escapeGraph_;
}

torch::Tensor UnitSynthesizer::gradientOf(Batch &batch, const Transform &t, double &loss)
{
    torch::Tensor objectives;
    torch::Tensor &spectrum = batch.state->image.spectrum();
    const torch::Tensor l = lossOf(batch, t, *graph_, objectives);
    loss = l.item<double>();
    // Only the spectrum's gradient: backward() would also accumulate into the shared model's parameters.
    torch::Tensor grad = torch::autograd::grad({l}, {spectrum}).at(0);
    // A unit behind rectifiers that are all off (or saturated, as ReLU6 at 6) for this image has a zero gradient —
    // its objective 0 behind a ReLU, or stuck at a negative value in a linear layer fed by them: plain ascent never
    // starts. Its images climb the same objective with every rectifier leaking a tenth of the gradient
    // (BackpropRule::Leaky; any architecture, residual blocks included) until the gradient flows; then the true
    // gradient takes over.
    const torch::Tensor dead = (objectives == 0) | (grad.flatten(1).abs().amax(1) == 0);
    if (dead.any().item<bool>()) {
        torch::Tensor unused;
        const torch::Tensor escape = torch::autograd::grad({lossOf(batch, t, escapeGraph(), unused)}, {spectrum}).at(0);
        grad = torch::where(dead.view({-1, 1, 1, 1, 1}), escape, grad);
    }
    return grad;
}

torch::Tensor &UnitSynthesizer::spectrum(size_t i)
{
    Batch &b = *batches_.at(i);
    if (!b.state)
        throw UsageError("batch " + std::to_string(i) + " is not being optimised");
    return b.state->image.spectrum();
}

UnitSynthesizer::Transform UnitSynthesizer::randomTransform()
{
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    Transform t;
    t.dx = std::round(unit(random_) * options_.jitter * width_);
    t.dy = std::round(unit(random_) * options_.jitter * height_);
    t.scale = 1 + unit(random_) * options_.scaleRange;
    t.angleDegrees = unit(random_) * options_.rotationDegrees;
    return t;
}

bool UnitSynthesizer::run(int steps, Progress *progress)
{
    const auto total = static_cast<std::int64_t>(batches_.size()) * options_.steps;
    for (int s = 0; s < steps && current_ < batches_.size(); ++s) {
        if (progress && progress->cancelled())
            throw CancelledError();
        Batch &b = *batches_[current_];
        if (!b.state)
            start(b);
        const Transform t = randomTransform();
        double l = 0;
        b.state->image.spectrum().mutable_grad() = gradientOf(b, t, l);
        b.state->optimizer.step();
        result_.loss.push_back(l / static_cast<double>(static_cast<std::int64_t>(b.targets) * options_.images));
        ++b.stepsDone;
        result_.stepsDone = b.stepsDone;
        b.images = torch::Tensor(); // out of date
        if (b.stepsDone >= options_.steps) { // finished: keep the images and their responses, free the rest
            measure(b);
            b.state.reset();
            ++current_;
        }
        if (progress)
            progress->report(static_cast<std::int64_t>(current_) * options_.steps +
                                 (current_ < batches_.size() ? batches_[current_]->stepsDone : 0),
                             total, "synthesising");
    }
    return current_ >= batches_.size();
}

void UnitSynthesizer::measure(Batch &b)
{
    torch::NoGradGuard noGrad;
    b.objective.clear();
    const torch::Tensor x = b.state->image.images().detach();
    const torch::Tensor out = layerOutput(*graph_, modelInput(x)).detach();
    const torch::Tensor r = out.dim() == 4 ? out.flatten(2).amax(2) : out;
    for (int64_t i = 0; i < out.size(0); ++i) {
        const Target &t = targets_[b.firstTarget + static_cast<size_t>(i / options_.images)];
        b.objective.push_back(r[i][t.channel].item<float>());
    }
    b.images = x.contiguous();
    b.responses = r.to(torch::kFloat32).contiguous();
}

const UnitSynthesizer::Result &UnitSynthesizer::result()
{
    std::vector<torch::Tensor> images, responses;
    result_.objective.clear();
    for (auto &b : batches_) {
        if (!b->state && !b->images.defined())
            break; // not started yet
        if (!b->images.defined())
            measure(*b);
        images.push_back(b->images);
        responses.push_back(b->responses);
        result_.objective.insert(result_.objective.end(), b->objective.begin(), b->objective.end());
    }
    result_.images = torch::cat(images);
    result_.responses = torch::cat(responses);
    result_.batchesDone = static_cast<int>(current_);
    return result_;
}

} // namespace convscope
