#include "explain/SanityCheck.h"

#include "common/Error.h"
#include "model/Model.h"
#include "model/ModulePath.h"
#include "explain/ReconstructionDisplay.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

namespace convscope {

const char *SanityCheck::methodName(Method m)
{
    switch (m) {
    case Method::Gradient: return "gradient";
    case Method::Guided: return "guided";
    case Method::Deconvnet: return "deconvnet";
    case Method::GradCam: return "gradcam";
    case Method::GuidedGradCam: return "guided-gradcam";
    }
    return "gradient";
}

SanityCheck::SanityCheck(std::shared_ptr<const Model> model, const torch::Tensor &image, Options options)
    : model_(std::move(model)), image_(image.dim() == 3 ? image.unsqueeze(0) : image), options_(std::move(options))
{
    if (image_.dim() != 4 || image_.size(0) != 1)
        throw UsageError("the sanity check takes one image");
    if (model_->numClasses() <= 0)
        throw UnsupportedModelError("the sanity check needs a model whose output is a vector of class scores");
    if (options_.methods.empty())
        throw UsageError("the sanity check needs at least one method");
    class_ = options_.classIndex >= 0 ? options_.classIndex : model_->predict(image_, 1).at(0).at(0).classIndex;
    if (class_ >= model_->numClasses())
        throw UsageError("class " + std::to_string(class_) + " does not exist");
    // Parameterised leaf modules, each once, from the top.
    std::set<std::string> seen;
    const auto &layers = model_->layers();
    for (auto it = layers.rbegin(); it != layers.rend(); ++it)
        if (it->kind != LayerKind::Block && it->params > 0 && seen.insert(it->modulePath).second)
            layers_.push_back(it->modulePath);
    if (options_.maxSteps > 0 && static_cast<int>(layers_.size()) > options_.maxSteps)
        layers_.resize(static_cast<size_t>(options_.maxSteps));
    copy_ = model_->module().deepcopy();
    copy_.eval();
    reconstructor_ = std::make_unique<Reconstructor>(model_, copy_);
    camLayer_ = options_.camLayer >= 0 ? options_.camLayer : reconstructor_->defaultCamLayer();
    for (Method m : options_.methods)
        if ((m == Method::GradCam || m == Method::GuidedGradCam) && camLayer_ < 0)
            throw UnsupportedModelError("the model has no layer with spatial maps for Grad-CAM");
}

torch::Tensor SanityCheck::explain(Method m)
{
    const std::vector<int> classes{class_};
    switch (m) {
    case Method::Gradient:
        return reconstructor_->classSaliency(image_, classes, BackpropRule::Gradient)[0].abs().sum(0);
    case Method::Guided:
        return reconstructor_->classSaliency(image_, classes, BackpropRule::Guided)[0].abs().sum(0);
    case Method::Deconvnet:
        return reconstructor_->classSaliency(image_, classes, BackpropRule::Deconvnet)[0].abs().sum(0);
    case Method::GradCam: return reconstructor_->gradCam(image_, classes, camLayer_).upsampled[0];
    case Method::GuidedGradCam: return reconstructor_->guidedGradCam(image_, classes, camLayer_)[0].abs().sum(0);
    }
    return {};
}

void SanityCheck::reinitialise(const std::string &modulePath)
{
    const auto found = ModulePath::find(copy_, modulePath);
    if (!found)
        return; // a module the copy does not name (cannot happen for a deep copy); nothing to damage
    torch::jit::Module m = *found;
    torch::NoGradGuard noGrad;
    // Seeded per layer, so a step's weights do not depend on how the run was chunked.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(options_.seed * 1000003u + std::hash<std::string>{}(modulePath));
    double bound = 0;
    for (const auto &p : m.named_parameters(false))
        if (p.name == "weight" && p.value.dim() >= 2)
            bound = 1.0 / std::sqrt(static_cast<double>(p.value[0].numel()));
    for (const auto &p : m.named_parameters(false)) {
        torch::Tensor t = p.value;
        if (t.dim() >= 2 || (bound > 0 && p.name == "bias"))
            t.uniform_(-bound, bound, gen);
        else if (p.name == "weight")
            t.fill_(1.0);
        else
            t.zero_();
    }
}

void SanityCheck::run(int count)
{
    for (int i = 0; i < count && !done(); ++i) {
        Step step;
        const size_t index = results_.size();
        if (index > 0) {
            step.layer = layers_[index - 1];
            reinitialise(step.layer);
        }
        for (size_t k = 0; k < options_.methods.size(); ++k) {
            step.maps.push_back(explain(options_.methods[k]));
            step.correlation.push_back(index == 0 ? 1.0 : spearman(results_[0].maps[k], step.maps.back()));
        }
        results_.push_back(std::move(step));
    }
}

namespace {

std::vector<double> ranks(const torch::Tensor &t)
{
    const torch::Tensor flat = t.detach().to(torch::kFloat64).flatten().contiguous();
    const double *v = flat.data_ptr<double>();
    const size_t n = static_cast<size_t>(flat.numel());
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> r(n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[order[j + 1]] == v[order[i]])
            ++j;
        const double average = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
        for (size_t k = i; k <= j; ++k)
            r[order[k]] = average;
        i = j + 1;
    }
    return r;
}

} // namespace

double SanityCheck::spearman(const torch::Tensor &a, const torch::Tensor &b)
{
    if (a.numel() != b.numel() || a.numel() < 2)
        throw UsageError("rank correlation of maps of different sizes");
    const auto ra = ranks(a), rb = ranks(b);
    const double n = static_cast<double>(ra.size());
    const double mean = (n + 1) / 2;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < ra.size(); ++i) {
        sab += (ra[i] - mean) * (rb[i] - mean);
        saa += (ra[i] - mean) * (ra[i] - mean);
        sbb += (rb[i] - mean) * (rb[i] - mean);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

TileSet SanityCheck::figure() const
{
    TileSet set;
    set.kind = TileValues::Color;
    std::vector<torch::Tensor> tiles;
    for (size_t k = 0; k < options_.methods.size(); ++k)
        for (size_t s = 0; s < results_.size(); ++s) {
            tiles.push_back(ReconstructionDisplay::render(results_[s].maps[k], ReconstructionDisplay::Style::Magnitude));
            char rho[48];
            std::snprintf(rho, sizeof rho, "ρ=%.2f", results_[s].correlation[k]);
            std::string caption = s == 0 ? std::string(methodName(options_.methods[k])) : std::string(rho);
            if (s > 0 && k == 0) { // the column's layer, short: "−fc3 ρ=0.34"
                const std::string &l = results_[s].layer;
                caption = "−" + l.substr(l.rfind('.') == std::string::npos ? 0 : l.rfind('.') + 1) + " " + rho;
            }
            set.captions.push_back(caption);
        }
    set.values = torch::stack(tiles);
    set.columns = static_cast<int>(results_.size());
    set.title = "Sanity check, class " + model_->label(class_) +
                ": layers re-initialised from the top (left to right); ρ = rank correlation with the original map";
    return set;
}

} // namespace convscope
