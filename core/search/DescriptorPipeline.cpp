#include "search/DescriptorPipeline.h"

#include "common/Error.h"
#include "common/NpyFile.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <torch/torch.h>

namespace convscope {

torch::Tensor DescriptorPipeline::prepare(const torch::Tensor &features) const
{
    torch::Tensor x = features.to(torch::kFloat32);
    if (options_.normalise)
        x = x / x.norm(2, 1, true).clamp_min(1e-12);
    return x;
}

void DescriptorPipeline::fit(const torch::Tensor &features)
{
    if (features.dim() != 2)
        throw UsageError("features must be a matrix (images × dimensions)");
    const torch::Tensor usable = features.isnan().any(1).logical_not();
    const torch::Tensor x = prepare(features.index({usable}));
    if (x.size(0) < 2)
        throw DataError("need at least 2 images with features to learn a descriptor");
    mean_ = x.mean(0);
    if (options_.pca <= 0) {
        components_ = torch::Tensor();
        return;
    }
    // Covariance in float64 (sums over many images), then its eigenvectors by decreasing eigenvalue.
    const torch::Tensor centred = (x - mean_).to(torch::kFloat64);
    const torch::Tensor cov = centred.t().mm(centred) / static_cast<double>(x.size(0) - 1);
    auto [values, vectors] = torch::linalg_eigh(cov);
    values = values.flip(0).clamp_min(0);
    vectors = vectors.flip(1);
    const std::int64_t d = std::min<std::int64_t>({options_.pca, x.size(1), x.size(0)});
    explained_ = (values.cumsum(0) / values.sum().clamp_min(1e-300)).to(torch::kFloat32);
    components_ = vectors.narrow(1, 0, d).to(torch::kFloat32).contiguous();
    variances_ = values.narrow(0, 0, d).to(torch::kFloat32).contiguous();
}

std::int64_t DescriptorPipeline::outputDims() const
{
    return components_.defined() ? components_.size(1) : inputDims();
}

torch::Tensor DescriptorPipeline::transform(const torch::Tensor &features) const
{
    if (!mean_.defined())
        throw UsageError("the descriptor has not been learned yet");
    if (features.dim() != 2 || features.size(1) != inputDims())
        throw UsageError("features have " + std::to_string(features.dim() == 2 ? features.size(1) : 0) +
                         " dimensions; the descriptor was learned on " + std::to_string(inputDims()));
    torch::Tensor x = prepare(features);
    if (components_.defined()) {
        x = (x - mean_).mm(components_);
        if (options_.whiten)
            x = x / (variances_ + 1e-9f * variances_.max()).sqrt();
    }
    if (options_.renormalise)
        x = x / x.norm(2, 1, true).clamp_min(1e-12);
    return x.contiguous();
}

void DescriptorPipeline::save(const std::string &dir) const
{
    if (!QDir().mkpath(QString::fromStdString(dir)))
        throw IoError("cannot create '" + dir + "'");
    NpyFile::write(dir + "/pca_mean.npy", mean_);
    if (components_.defined()) {
        NpyFile::write(dir + "/pca_components.npy", components_);
        NpyFile::write(dir + "/pca_variances.npy", variances_);
        NpyFile::write(dir + "/pca_explained.npy", explained_);
    }
    const QJsonObject o{{"normalise", options_.normalise}, {"pca", options_.pca}, {"whiten", options_.whiten},
                        {"renormalise", options_.renormalise}};
    QFile f(QString::fromStdString(dir + "/pipeline.json"));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(QJsonDocument(o).toJson()) < 0)
        throw IoError("cannot write '" + dir + "/pipeline.json': " + f.errorString().toStdString());
}

DescriptorPipeline DescriptorPipeline::load(const std::string &dir)
{
    QFile f(QString::fromStdString(dir + "/pipeline.json"));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read '" + dir + "/pipeline.json': " + f.errorString().toStdString());
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    Options opt;
    opt.normalise = o["normalise"].toBool(true);
    opt.pca = o["pca"].toInt(128);
    opt.whiten = o["whiten"].toBool(false);
    opt.renormalise = o["renormalise"].toBool(true);
    DescriptorPipeline p(opt);
    p.mean_ = NpyFile::read(dir + "/pca_mean.npy");
    if (QFile::exists(QString::fromStdString(dir + "/pca_components.npy"))) {
        p.components_ = NpyFile::read(dir + "/pca_components.npy");
        p.variances_ = NpyFile::read(dir + "/pca_variances.npy");
        p.explained_ = NpyFile::read(dir + "/pca_explained.npy");
    }
    return p;
}

} // namespace convscope
