#include "search/DescriptorIndex.h"

#include "common/Error.h"
#include "search/ExactIndex.h"
#include "data/ImageReference.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "common/NpyFile.h"
#include "search/IndexMetadata.h"
#include "scan/StoredFeatures.h"
#include "scan/StoredScan.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <torch/torch.h>

#include <algorithm>

namespace convscope {

namespace {

QString q(const std::string &s) { return QString::fromStdString(s); }

IndexMetadata readMeta(const std::string &path)
{
    QFile f(q(path));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read '" + path + "': " + f.errorString().toStdString());
    return IndexMetadata::parse(f.read(qint64(64) << 20), path); // meta.json is small; added paths make it grow
}

} // namespace

DescriptorIndex DescriptorIndex::build(const std::string &project, Options options, Progress *progress)
{
    const StoredFeatures src = StoredFeatures::find(project, options.layer, options.pooling, progress);
    DescriptorIndex d;
    d.layer_ = src.layer;
    d.pooling_ = src.pooling;
    d.scanId_ = src.scan.id;
    d.featureFile_ = src.file;
    d.modelPath_ = src.scan.modelPath;
    d.dataset_ = src.scan.dataset;
    d.name_ = options.name;
    if (d.name_.empty()) {
        d.name_ = src.layer + "-" + descriptorName(src.pooling) + "-" + std::to_string(options.pipeline.pca) +
                  (options.pipeline.whiten ? "w" : "") + (options.ann.empty() ? "" : "-" + options.ann);
        std::replace(d.name_.begin(), d.name_.end(), '/', '_');
    }
    if (d.name_.find_first_of("/\\") != std::string::npos || d.name_ == "." || d.name_ == "..")
        throw UsageError("the index name '" + d.name_ + "' must be a plain folder name (no '/')");
    d.dir_ = project + "/index-" + d.name_;
    d.pipeline_ = DescriptorPipeline(options.pipeline);
    d.fill(d.datasetFeatures(), options);
    return d;
}

DescriptorIndex DescriptorIndex::fromDescriptors(const std::string &project, const Options &options,
                                                 const std::string &modelPath, const std::string &layer,
                                                 std::int64_t scanId, const std::string &dataset,
                                                 const torch::Tensor &descriptors)
{
    DescriptorIndex d;
    d.name_ = options.name;
    if (d.name_.empty() || d.name_.find_first_of("/\\") != std::string::npos || d.name_ == "." || d.name_ == "..")
        throw UsageError("the index name '" + d.name_ + "' must be a plain folder name (no '/')");
    d.layer_ = layer;
    d.pooling_ = FeaturePooling::None;
    d.scanId_ = scanId;
    d.modelPath_ = modelPath;
    d.dataset_ = dataset;
    d.dir_ = project + "/index-" + d.name_;
    if (!QDir().mkpath(q(d.dir_)))
        throw IoError("cannot create '" + d.dir_ + "'");
    d.featureFile_ = d.dir_ + "/features.npy";
    NpyFile::write(d.featureFile_, descriptors.to(torch::kFloat32).contiguous());
    DescriptorPipeline::Options po;
    po.pca = 0;
    d.pipeline_ = DescriptorPipeline(po);
    d.fill(descriptors.to(torch::kFloat32), options);
    return d;
}

void DescriptorIndex::fill(const torch::Tensor &raw, const Options &options)
{
    DescriptorIndex &d = *this;
    d.pipeline_.fit(raw);
    const torch::Tensor desc = d.pipeline_.transform(raw);
    const torch::Tensor usable = desc.isnan().any(1).logical_not().nonzero().flatten();
    const torch::Tensor rows = desc.index_select(0, usable).contiguous();
    std::vector<std::int64_t> ids(usable.data_ptr<std::int64_t>(), usable.data_ptr<std::int64_t>() + usable.numel());
    if (options.ann.empty())
        d.index_ = std::make_shared<ExactIndex>(rows.size(1), options.metric);
    else {
        FaissIndex::Options fo = options.faiss;
        fo.kind = options.ann;
        d.index_ = std::make_shared<FaissIndex>(rows.size(1), options.metric, fo);
    }
    d.index_->add(rows.data_ptr<float>(), rows.size(0), ids.data());
    d.save();
}

void DescriptorIndex::save() const
{
    if (!QDir().mkpath(q(dir_)))
        throw IoError("cannot create '" + dir_ + "'");
    pipeline_.save(dir_);
    index_->save(dir_ + "/index.bin");
    IndexMetadata meta;
    meta.name = name_;
    meta.layer = layer_;
    meta.pooling = pooling_;
    meta.scan = scanId_;
    meta.features = featureFile_;
    meta.model = modelPath_;
    meta.dataset = dataset_;
    meta.metric = SearchIndex::metricName(index_->metric());
    meta.kind = index_->kind();
    meta.size = index_->size();
    meta.dims = index_->dims();
    meta.created = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toStdString();
    meta.added = added_;
    QFile f(q(dir_ + "/meta.json"));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(meta.toJson()) < 0)
        throw IoError("cannot write '" + dir_ + "/meta.json': " + f.errorString().toStdString());
}

std::vector<int> DescriptorIndex::layerChoices(const Model &model)
{
    std::vector<int> out;
    for (const LayerInfo &l : model.layers()) {
        const bool vector = l.outputShape.size() == 2, map = l.outputShape.size() == 4;
        if (!l.capturable || (!vector && !map) || l.kind == LayerKind::Activation)
            continue;
        if (vector && l.outputShape[1] == model.numClasses())
            continue; // the class scores themselves
        out.push_back(l.index);
    }
    return out;
}

std::vector<std::string> DescriptorIndex::list(const std::string &project)
{
    std::vector<std::pair<QString, std::string>> found;
    for (const QFileInfo &fi : QDir(q(project)).entryInfoList({"index-*"}, QDir::Dirs)) {
        const QString meta = fi.filePath() + "/meta.json";
        if (!QFileInfo::exists(meta))
            continue;
        try {
            const IndexMetadata m = readMeta(meta.toStdString());
            found.push_back({q(m.created), m.name});
        } catch (const DataError &) {
            // a damaged index is not offered; open() by its name says what is wrong with it
        }
    }
    std::sort(found.begin(), found.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    std::vector<std::string> names;
    for (const auto &f : found)
        names.push_back(f.second);
    return names;
}

DescriptorIndex DescriptorIndex::open(const std::string &project, const std::string &name)
{
    std::string which = name;
    if (which.empty()) {
        const auto names = list(project);
        if (names.empty())
            throw DataError("project '" + project + "' holds no index; run `convscope index` first");
        which = names.front();
    }
    DescriptorIndex d;
    d.dir_ = project + "/index-" + which;
    if (!QFileInfo::exists(q(d.dir_ + "/meta.json"))) {
        std::string known;
        for (const auto &n : list(project))
            known += (known.empty() ? "" : ", ") + n;
        throw UsageError("no index '" + which + "' in '" + project + "'" +
                         (known.empty() ? std::string() : "; indexes: " + known));
    }
    const IndexMetadata meta = readMeta(d.dir_ + "/meta.json");
    d.name_ = meta.name;
    d.layer_ = meta.layer;
    d.pooling_ = meta.pooling;
    d.scanId_ = meta.scan;
    d.featureFile_ = meta.features;
    d.modelPath_ = meta.model;
    d.dataset_ = meta.dataset;
    d.added_ = meta.added;
    d.pipeline_ = DescriptorPipeline::load(d.dir_);
    d.index_ = std::shared_ptr<SearchIndex>(SearchIndex::load(d.dir_ + "/index.bin"));
    return d;
}

torch::Tensor DescriptorIndex::datasetFeatures() const
{
    return NpyFile::read(featureFile_).to(torch::kFloat32);
}

torch::Tensor DescriptorIndex::rawFeatures(const Model &model, const torch::Tensor &inputs) const
{
    const LayerInfo &layer = model.layer(layer_);
    torch::Tensor out = model.probe().run(inputs, {layer.index}).captured.at(0).to(torch::kFloat32);
    if (pooling_ == FeaturePooling::None)
        return out.flatten(1);
    if (out.dim() != 4)
        throw UsageError("layer '" + layer_ + "' does not output maps");
    return pooling_ == FeaturePooling::Average ? out.mean({2, 3}) : out.amax({2, 3});
}

std::vector<std::vector<DescriptorIndex::Hit>> DescriptorIndex::search(const torch::Tensor &raw, int k,
                                                                      std::int64_t exclude) const
{
    const torch::Tensor desc = pipeline_.transform(raw.dim() == 1 ? raw.unsqueeze(0) : raw).contiguous();
    const std::int64_t nq = desc.size(0);
    const int kk = k + (exclude >= 0 ? 1 : 0);
    std::vector<float> dist(static_cast<size_t>(nq * kk));
    std::vector<std::int64_t> ids(static_cast<size_t>(nq * kk));
    index_->search(desc.data_ptr<float>(), nq, kk, dist.data(), ids.data());
    std::vector<std::vector<Hit>> out(static_cast<size_t>(nq));
    for (std::int64_t i = 0; i < nq; ++i)
        for (int j = 0; j < kk && static_cast<int>(out[i].size()) < k; ++j) {
            const std::int64_t id = ids[static_cast<size_t>(i * kk + j)];
            if (id >= 0 && id != exclude)
                out[i].push_back({id, dist[static_cast<size_t>(i * kk + j)]});
        }
    return out;
}

std::vector<DescriptorIndex::Contribution> DescriptorIndex::whySimilar(const torch::Tensor &rawA,
                                                                      const torch::Tensor &rawB, int top) const
{
    if (pooling_ == FeaturePooling::None)
        return {};
    const torch::Tensor a = rawA.flatten().to(torch::kFloat32), b = rawB.flatten().to(torch::kFloat32);
    const torch::Tensor product = (a / a.norm().clamp_min(1e-12)) * (b / b.norm().clamp_min(1e-12));
    const float positive = product.clamp_min(0).sum().item<float>();
    auto [values, order] = product.topk(std::min<std::int64_t>(top, product.numel()));
    std::vector<Contribution> out;
    for (std::int64_t i = 0; i < values.numel(); ++i)
        if (values[i].item<float>() > 0)
            out.push_back({static_cast<int>(order[i].item<std::int64_t>()),
                           positive > 0 ? values[i].item<float>() / positive : 0.0f});
    return out;
}

std::vector<std::int64_t> DescriptorIndex::addFiles(const Model &model, const std::vector<std::string> &paths,
                                                    std::vector<std::string> *skipped)
{
    const Preprocessor pre(model.input());
    std::vector<torch::Tensor> inputs;
    std::vector<std::int64_t> ids;
    std::vector<std::string> kept;
    for (const auto &path : paths) {
        try {
            inputs.push_back(pre.tensor(ImageReference::load(path).image));
            kept.push_back(QFileInfo(q(path)).absoluteFilePath().toStdString());
            ids.push_back(firstAddedId() + static_cast<std::int64_t>(added_.size() + kept.size() - 1));
        } catch (const Error &e) {
            if (skipped)
                skipped->push_back(path + ": " + e.what());
        }
    }
    if (inputs.empty())
        return {};
    const torch::Tensor raw = rawFeatures(model, torch::stack(inputs));
    added_.insert(added_.end(), kept.begin(), kept.end());
    add(raw, ids);
    return ids;
}

std::string DescriptorIndex::addedPath(std::int64_t id) const
{
    const std::int64_t i = id - firstAddedId();
    return i >= 0 && i < static_cast<std::int64_t>(added_.size()) ? added_[static_cast<size_t>(i)] : std::string();
}

void DescriptorIndex::add(const torch::Tensor &raw, const std::vector<std::int64_t> &ids)
{
    const torch::Tensor desc = pipeline_.transform(raw).contiguous();
    if (static_cast<std::int64_t>(ids.size()) != desc.size(0))
        throw UsageError("one id per added row expected");
    index_->add(desc.data_ptr<float>(), desc.size(0), ids.data());
    save();
}

} // namespace convscope
