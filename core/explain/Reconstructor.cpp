#include "explain/Reconstructor.h"

#include "common/Error.h"
#include "data/Preprocessor.h"
#include "model/Model.h"

#include <torch/torch.h>

namespace convscope {

namespace {

using torch::indexing::Slice;

torch::Tensor leafInput(const torch::Tensor &batch, torch::Tensor &leaf)
{
    leaf = batch.detach().to(torch::kFloat32).requires_grad_(true);
    // A non-leaf copy: models that modify their input in place still differentiate.
    return leaf.clone();
}

torch::Tensor gradientOf(const torch::Tensor &scalar, const torch::Tensor &leaf)
{
    auto grads = torch::autograd::grad({scalar}, {leaf}, {}, false, false, true);
    if (!grads.at(0).defined())
        return torch::zeros_like(leaf);
    return grads.at(0).detach();
}

} // namespace

Reconstructor::Reconstructor(std::shared_ptr<const Model> model) : model_(std::move(model))
{
    weights_ = model_->module();
}

Reconstructor::Reconstructor(std::shared_ptr<const Model> model, torch::jit::Module weights)
    : model_(std::move(model)), weights_(std::move(weights))
{
}

Reconstructor::~Reconstructor() = default;

const BackpropGraph &Reconstructor::graphFor(int layer, bool keepModelOutput, BackpropRule rule) const
{
    std::vector<int> outputs;
    if (layer >= 0) {
        const auto &layers = model_->layers();
        if (layer >= static_cast<int>(layers.size()))
            throw UsageError("no layer with index " + std::to_string(layer));
        const ModuleCall &call = model_->probe().calls().at(static_cast<size_t>(layers[layer].index));
        if (call.output < 0)
            throw UsageError("the output of '" + layers[layer].path + "' cannot be captured: " + call.whyNot);
        outputs.push_back(call.output);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    auto key = std::make_tuple(layer, keepModelOutput, static_cast<int>(rule));
    auto it = graphs_.find(key);
    if (it == graphs_.end())
        it = graphs_
                 .emplace(key, std::make_unique<BackpropGraph>(model_->probe().probeGraph(), outputs,
                                                               keepModelOutput, rule))
                 .first;
    return *it->second;
}

torch::Tensor Reconstructor::batchOf(const torch::Tensor &images) const
{
    torch::Tensor b = images.dim() == 3 ? images.unsqueeze(0) : images;
    if (b.dim() != 4 || b.size(0) == 0)
        throw UsageError("expected images as N×C×H×W, got " + std::to_string(images.dim()) + " dimensions");
    return b;
}

std::vector<UnitReconstruction> Reconstructor::units(const torch::Tensor &images, int layer,
                                                     const std::vector<UnitTarget> &targets, BackpropRule rule) const
{
    const torch::Tensor batch = batchOf(images);
    const int64_t n = batch.size(0);
    if (static_cast<int64_t>(targets.size()) != n)
        throw UsageError("one unit per image expected");
    const BackpropGraph &graph = graphFor(layer, false, rule);
    torch::Tensor leaf;
    const torch::Tensor out = graph.run(weights_, leafInput(batch, leaf)).at(0).toTensor();
    const std::string &name = model_->layers().at(static_cast<size_t>(layer)).path;
    if (out.dim() != 4 && out.dim() != 2)
        throw UsageError("layer '" + name + "' has no units to project (its output has " +
                         std::to_string(out.dim()) + " dimensions)");
    const int64_t channels = out.size(1);
    std::vector<int64_t> cs(n), ys(n, 0), xs(n, 0);
    for (int64_t i = 0; i < n; ++i) {
        const UnitTarget &t = targets[static_cast<size_t>(i)];
        if (t.channel < 0 || t.channel >= channels)
            throw UsageError("layer '" + name + "' has " + std::to_string(channels) + " units; there is no unit " +
                             std::to_string(t.channel));
        cs[i] = t.channel;
        if (out.dim() == 2)
            continue;
        const int64_t h = out.size(2), w = out.size(3);
        if (t.y < 0 || t.x < 0) {
            const int64_t flat = out.detach()[i][t.channel].flatten().argmax().item<int64_t>();
            ys[i] = flat / w;
            xs[i] = flat % w;
        } else if (t.y >= h || t.x >= w) {
            throw UsageError("position (" + std::to_string(t.y) + ", " + std::to_string(t.x) + ") is outside the " +
                             std::to_string(h) + "×" + std::to_string(w) + " map of layer '" + name + "'");
        } else {
            ys[i] = t.y;
            xs[i] = t.x;
        }
    }
    const auto opts = torch::TensorOptions().dtype(torch::kInt64);
    const torch::Tensor rows = torch::arange(n, opts);
    const torch::Tensor c = torch::tensor(cs, opts);
    const torch::Tensor selected = out.dim() == 2 ? out.index({rows, c})
                                                  : out.index({rows, c, torch::tensor(ys, opts), torch::tensor(xs, opts)});
    const torch::Tensor values = selected.detach().contiguous();
    const torch::Tensor grad = Preprocessor(model_->input()).inRgbOrder(gradientOf(selected.sum(), leaf));
    std::vector<UnitReconstruction> result(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        result[i] = {grad[i], values[i].item<float>(), static_cast<int>(ys[i]), static_cast<int>(xs[i])};
    return result;
}

UnitReconstruction Reconstructor::unit(const torch::Tensor &image, int layer, const UnitTarget &target,
                                       BackpropRule rule) const
{
    return units(batchOf(image).slice(0, 0, 1), layer, {target}, rule).at(0);
}

void Reconstructor::checkClasses(const std::vector<int> &classes, int64_t rows) const
{
    if (static_cast<int64_t>(classes.size()) != rows)
        throw UsageError("one class per image expected");
    const int k = model_->numClasses();
    for (int c : classes)
        if (c < 0 || (k > 0 && c >= k))
            throw UsageError("class " + std::to_string(c) + " does not exist: the model has " + std::to_string(k) +
                             " classes (0.." + std::to_string(k - 1) + ")");
}

torch::Tensor Reconstructor::classSaliency(const torch::Tensor &images, const std::vector<int> &classes,
                                           BackpropRule rule) const
{
    const torch::Tensor batch = batchOf(images);
    checkClasses(classes, batch.size(0));
    torch::Tensor leaf;
    const auto outs = graphFor(-1, true, rule).run(weights_, leafInput(batch, leaf));
    const torch::Tensor logits = Model::firstTensor(outs.at(0));
    const torch::Tensor idx = torch::tensor(std::vector<int64_t>(classes.begin(), classes.end()));
    const torch::Tensor score = logits.gather(1, idx.unsqueeze(1)).sum();
    return Preprocessor(model_->input()).inRgbOrder(gradientOf(score, leaf));
}

GradCamResult Reconstructor::gradCam(const torch::Tensor &images, const std::vector<int> &classes, int layer) const
{
    const torch::Tensor batch = batchOf(images);
    checkClasses(classes, batch.size(0));
    const auto outs = graphFor(layer, true, BackpropRule::Gradient).run(weights_, batch.detach().to(torch::kFloat32));
    const torch::Tensor logits = Model::firstTensor(outs.at(0));
    const torch::Tensor a = outs.at(1).toTensor();
    const std::string &name = model_->layers().at(static_cast<size_t>(layer)).path;
    if (a.dim() != 4)
        throw UsageError("Grad-CAM needs a layer with spatial maps; '" + name + "' has " + std::to_string(a.dim()) +
                         "-D outputs");
    if (!a.requires_grad())
        throw UnsupportedModelError("the class scores do not depend on layer '" + name + "'");
    const torch::Tensor idx = torch::tensor(std::vector<int64_t>(classes.begin(), classes.end()));
    const torch::Tensor score = logits.gather(1, idx.unsqueeze(1)).sum();
    auto grads = torch::autograd::grad({score}, {a}, {}, false, false, true);
    if (!grads.at(0).defined())
        throw UnsupportedModelError("the class scores do not depend on the captured output of layer '" + name +
                                    "' (it is a copy the model overwrites later); choose the layer before or after");
    GradCamResult r;
    r.weights = grads.at(0).mean({2, 3});
    const torch::Tensor ad = a.detach();
    r.cam = (r.weights.unsqueeze(2).unsqueeze(3) * ad).sum(1).relu();
    r.upsampled = torch::nn::functional::interpolate(
                      r.cam.unsqueeze(1), torch::nn::functional::InterpolateFuncOptions()
                                              .size(std::vector<int64_t>{batch.size(2), batch.size(3)})
                                              .mode(torch::kBilinear)
                                              .align_corners(false))
                      .squeeze(1);
    return r;
}

torch::Tensor Reconstructor::guidedGradCam(const torch::Tensor &images, const std::vector<int> &classes,
                                           int layer) const
{
    const torch::Tensor guided = classSaliency(images, classes, BackpropRule::Guided);
    return guided * gradCam(images, classes, layer).upsampled.unsqueeze(1);
}

int Reconstructor::defaultCamLayer() const
{
    const auto &layers = model_->layers();
    for (int i = static_cast<int>(layers.size()); i-- > 0;) {
        const LayerInfo &l = layers[static_cast<size_t>(i)];
        if (!l.capturable || l.kind == LayerKind::Block || l.kind == LayerKind::Pool || l.outputShape.size() != 4)
            continue;
        if (l.outputShape[2] * l.outputShape[3] > 1)
            return i;
    }
    return -1;
}

std::vector<std::string> Reconstructor::uncovered(BackpropRule rule, int layer) const
{
    return graphFor(layer, layer < 0, rule).uncovered();
}

} // namespace convscope
