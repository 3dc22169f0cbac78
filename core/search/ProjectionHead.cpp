#include "search/ProjectionHead.h"

#include "common/Error.h"
#include "common/NpyFile.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <torch/torch.h>

namespace convscope {

namespace {

torch::Tensor normalised(const torch::Tensor &x) { return x / x.norm(2, 1, true).clamp_min(1e-12); }

} // namespace

ProjectionHead::ProjectionHead(const DescriptorPipeline &pca, Options options, std::uint64_t seed)
    : options_(options)
{
    const DescriptorPipeline::Options &po = pca.options();
    if (po.pca <= 0 || po.whiten || !po.normalise || pca.inputDims() == 0)
        throw UsageError("a projection head starts from a fitted, normalised, unwhitened PCA");
    // PCA: y = (x̂ − μ)·C = x̂·C − μ·C.
    const torch::Tensor &components = pca.components();
    weight_ = components.clone().set_requires_grad(true);
    bias_ = (-pca.mean().unsqueeze(0).mm(components)).squeeze(0).clone().set_requires_grad(true);
    options_.dims = static_cast<int>(weight_.size(1));
    if (options_.hidden > 0) {
        torch::Generator g = at::detail::createCPUGenerator(seed);
        const auto d = weight_.size(0);
        hiddenWeight_ = (torch::randn({d, options_.hidden}, g) / std::sqrt(static_cast<double>(d)))
                            .set_requires_grad(true);
        hiddenBias_ = torch::zeros({options_.hidden}).set_requires_grad(true);
        outputWeight_ = torch::zeros({options_.hidden, weight_.size(1)}).set_requires_grad(true);
    }
}

torch::Tensor ProjectionHead::forward(const torch::Tensor &features) const
{
    if (!weight_.defined())
        throw UsageError("the projection head has not been set up");
    if (features.dim() != 2 || features.size(1) != inputDims())
        throw UsageError("features have " + std::to_string(features.dim() == 2 ? features.size(1) : 0) +
                         " dimensions; the head takes " + std::to_string(inputDims()));
    const torch::Tensor x = normalised(features.to(torch::kFloat32));
    torch::Tensor y = torch::addmm(bias_, x, weight_);
    if (hiddenWeight_.defined())
        y = y + torch::relu(torch::addmm(hiddenBias_, x, hiddenWeight_)).mm(outputWeight_);
    return normalised(y);
}

std::vector<torch::Tensor> ProjectionHead::parameters() const
{
    std::vector<torch::Tensor> p{weight_, bias_};
    if (hiddenWeight_.defined())
        p.insert(p.end(), {hiddenWeight_, hiddenBias_, outputWeight_});
    return p;
}

void ProjectionHead::save(const std::string &dir) const
{
    if (!QDir().mkpath(QString::fromStdString(dir)))
        throw IoError("cannot create '" + dir + "'");
    NpyFile::write(dir + "/head_weight.npy", weight_.detach());
    NpyFile::write(dir + "/head_bias.npy", bias_.detach());
    if (hiddenWeight_.defined()) {
        NpyFile::write(dir + "/head_hidden_weight.npy", hiddenWeight_.detach());
        NpyFile::write(dir + "/head_hidden_bias.npy", hiddenBias_.detach());
        NpyFile::write(dir + "/head_output_weight.npy", outputWeight_.detach());
    }
    const QJsonObject o{{"dims", options_.dims}, {"hidden", options_.hidden}};
    QFile f(QString::fromStdString(dir + "/head.json"));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(QJsonDocument(o).toJson()) < 0)
        throw IoError("cannot write '" + dir + "/head.json': " + f.errorString().toStdString());
}

ProjectionHead ProjectionHead::load(const std::string &dir)
{
    QFile f(QString::fromStdString(dir + "/head.json"));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read '" + dir + "/head.json': " + f.errorString().toStdString());
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    ProjectionHead h;
    h.options_.dims = o["dims"].toInt(128);
    h.options_.hidden = o["hidden"].toInt(0);
    auto read = [&](const char *name) {
        return NpyFile::read(dir + "/" + name).to(torch::kFloat32).contiguous().set_requires_grad(true);
    };
    h.weight_ = read("head_weight.npy");
    h.bias_ = read("head_bias.npy");
    if (h.options_.hidden > 0) {
        h.hiddenWeight_ = read("head_hidden_weight.npy");
        h.hiddenBias_ = read("head_hidden_bias.npy");
        h.outputWeight_ = read("head_output_weight.npy");
    }
    if (h.weight_.dim() != 2)
        throw DataError("the projection head in '" + dir + "' has inconsistent shapes");
    const auto d = h.weight_.size(1);
    const bool fits = h.bias_.dim() == 1 && h.bias_.size(0) == d &&
                      (h.options_.hidden <= 0 ||
                       (h.hiddenWeight_.dim() == 2 && h.hiddenWeight_.size(0) == h.weight_.size(0) &&
                        h.hiddenWeight_.size(1) == h.options_.hidden && h.hiddenBias_.numel() == h.options_.hidden &&
                        h.outputWeight_.dim() == 2 && h.outputWeight_.size(0) == h.options_.hidden &&
                        h.outputWeight_.size(1) == d));
    if (!fits)
        throw DataError("the projection head in '" + dir + "' has inconsistent shapes");
    h.options_.dims = static_cast<int>(d);
    return h;
}

ProjectionHead ProjectionHead::clone() const
{
    ProjectionHead h;
    h.options_ = options_;
    auto copy = [](const torch::Tensor &t) {
        return t.defined() ? t.detach().clone().set_requires_grad(true) : torch::Tensor();
    };
    h.weight_ = copy(weight_);
    h.bias_ = copy(bias_);
    h.hiddenWeight_ = copy(hiddenWeight_);
    h.hiddenBias_ = copy(hiddenBias_);
    h.outputWeight_ = copy(outputWeight_);
    return h;
}

} // namespace convscope
