#include "search/DescriptorAdaptation.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "model/Model.h"
#include "scan/StoredFeatures.h"
#include "search/AdaptedModelWriter.h"
#include "search/DescriptorIndex.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <torch/torch.h>

#include <algorithm>
#include <limits>

namespace convscope {

namespace {

QString q(const std::string &s) { return QString::fromStdString(s); }

void writeJson(const std::string &path, const QJsonObject &o)
{
    // Written beside and renamed over: a kill while writing leaves the previous file whole.
    QFile f(q(path + ".tmp"));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(QJsonDocument(o).toJson()) < 0)
        throw IoError("cannot write '" + path + "': " + f.errorString().toStdString());
    f.close();
    QFile::remove(q(path));
    if (!QFile::rename(q(path + ".tmp"), q(path)))
        throw IoError("cannot write '" + path + "'");
}

QJsonObject readJson(const std::string &path)
{
    QFile f(q(path));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read '" + path + "': " + f.errorString().toStdString());
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(f.read(qint64(16) << 20), &error);
    if (!doc.isObject())
        throw DataError("'" + path + "' is not a JSON object: " + error.errorString().toStdString());
    return doc.object();
}

QJsonObject resultJson(const RetrievalEvaluator::Result &r)
{
    return {{"map", r.map}, {"precision_at_k", r.precisionAtK}, {"queries", static_cast<qint64>(r.queries)},
            {"database", static_cast<qint64>(r.database)}};
}

RetrievalEvaluator::Result resultOf(const QJsonObject &o)
{
    RetrievalEvaluator::Result r;
    r.map = o["map"].toDouble();
    r.precisionAtK = o["precision_at_k"].toDouble();
    r.queries = o["queries"].toInteger();
    r.database = o["database"].toInteger();
    return r;
}

/// The options a resumed run must share with the saved one (everything but the number of epochs).
QJsonObject optionsJson(const DescriptorAdaptation::Options &o, const std::string &layer, FeaturePooling pooling)
{
    QJsonArray classes;
    for (int c : o.split.trainClasses)
        classes.append(c);
    const HeadTrainer::Options &t = o.training;
    return {{"layer", q(layer)},
            {"descriptor", descriptorName(pooling)},
            {"dims", o.head.dims},
            {"hidden", o.head.hidden},
            {"loss", MetricLoss::kindName(t.loss.kind)},
            {"margin", static_cast<double>(MetricLoss(t.loss).margin())},
            {"mining", MetricLoss::miningName(t.loss.mining)},
            {"batch", t.batch},
            {"per_class", t.perClass},
            {"learning_rate", t.learningRate},
            {"seed", QString::number(t.seed)},
            {"train_classes", classes},
            {"train_fraction", o.split.trainClasses.empty() ? o.split.trainFraction : 0.0},
            {"split_seed", QString::number(o.split.seed)},
            {"queries", o.evaluation.queries},
            {"query_seed", QString::number(o.evaluation.seed)},
            {"precision_at", o.evaluation.precisionAt},
            {"metric", SearchIndex::metricName(o.evaluation.metric)},
            {"fine_tune_blocks", o.fineTuneBlocks},
            {"backbone_learning_rate", o.fineTuneBlocks > 0 ? t.backboneLearningRate : 0.0}};
}

} // namespace

DescriptorAdaptation::DescriptorAdaptation(const std::string &project, Options options, Progress *progress)
    : project_(project), options_(std::move(options))
{
    const std::string &name = options_.name;
    if (name.empty() || name.find_first_of("/\\") != std::string::npos || name == "." || name == "..")
        throw UsageError("an adaptation needs a name that is a plain folder name (--name)");
    if (options_.training.epochs < 1)
        throw UsageError("an adaptation needs at least 1 epoch");
    dir_ = project + "/adapt-" + name;
    const bool saved = QFileInfo::exists(q(dir_ + "/options.json"));
    if (saved && !options_.resume)
        throw UsageError("an adaptation '" + name + "' exists in the project; resume it (--resume) or choose "
                         "another name");
    if (!saved && options_.resume)
        throw UsageError("there is no adaptation '" + name + "' to resume in '" + project + "'");

    const StoredFeatures src = StoredFeatures::find(project, options_.layer, options_.pooling, progress);
    layer_ = src.layer;
    pooling_ = src.pooling;
    featureFile_ = src.file;
    dataset_ = src.scan.dataset;
    modelPath_ = src.scan.modelPath;
    scanId_ = src.scan.id;
    features_ = NpyFile::read(src.file).to(torch::kFloat32).contiguous();
    if (features_.dim() != 2)
        throw DataError("the stored features '" + src.file + "' are not a matrix");
    std::shared_ptr<const ImageSource> source(ImageSource::open(dataset_));
    const std::int64_t n = std::min<std::int64_t>(features_.size(0), source->size());
    features_ = features_.narrow(0, 0, n);
    original_features_ = features_;
    labels_.resize(static_cast<size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        labels_[static_cast<size_t>(i)] = source->label(i);
    const torch::Tensor finite = features_.isfinite().all(1);
    std::vector<bool> usable(static_cast<size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        usable[static_cast<size_t>(i)] = finite[i].item<bool>();
    std::int64_t nonFinite = 0;
    for (std::int64_t i = 0; i < n; ++i)
        nonFinite += usable[static_cast<size_t>(i)] ? 0 : 1;
    split_ = std::make_unique<AdaptationSplit>(labels_, usable, options_.split);

    const std::vector<std::int64_t> trainRows = split_->rows(AdaptationSplit::Role::Train);
    const torch::Tensor trainIndex = torch::tensor(trainRows, torch::kInt64);
    const torch::Tensor trainFeatures = features_.index_select(0, trainIndex);
    DescriptorPipeline::Options po;
    po.pca = options_.head.dims;
    original_ = DescriptorPipeline(po);
    original_.fit(trainFeatures);
    DescriptorPipeline::Options none;
    none.pca = 0;
    DescriptorPipeline rawPipeline(none);
    rawPipeline.fit(trainFeatures);
    raw_ = {"original " + layer_ + " " + descriptorName(pooling_) + ", no PCA", rawPipeline.outputDims(),
            evaluate(rawPipeline.transform(features_))};
    before_ = {"original " + layer_ + " " + descriptorName(pooling_) + ", PCA " +
                   std::to_string(original_.outputDims()),
               original_.outputDims(), evaluate(originalDescriptors())};

    std::vector<std::int64_t> trainLabels;
    for (auto r : trainRows)
        trainLabels.push_back(labels_[static_cast<size_t>(r)]);
    ProjectionHead head(original_, options_.head, options_.training.seed);
    if (options_.fineTuneBlocks > 0) {
        model_ = Model::load(modelPath_);
        source_ = source;
        tuner_ = std::make_unique<BackboneTuner>(*model_, layer_, pooling_, options_.fineTuneBlocks);
        // Training images through the network, a batch at a time (differentiable in the tuned layers).
        const Preprocessor pre(model_->input());
        auto describe = [this, trainRows, pre](const torch::Tensor &rows) {
            std::vector<torch::Tensor> inputs;
            for (std::int64_t i = 0; i < rows.size(0); ++i)
                inputs.push_back(pre.tensor(source_->image(trainRows[static_cast<size_t>(rows[i].item<std::int64_t>())])));
            return tuner_->describe(torch::stack(inputs));
        };
        trainer_ = std::make_unique<HeadTrainer>(describe, trainLabels, std::move(head), tuner_->parameters(),
                                                 options_.training);
    } else {
        trainer_ = std::make_unique<HeadTrainer>(trainFeatures, trainLabels, std::move(head), options_.training);
    }
    if (!QDir().mkpath(q(dir_)))
        throw IoError("cannot create '" + dir_ + "'");
    const QJsonObject wanted = optionsJson(options_, layer_, pooling_);
    if (saved) {
        const QJsonObject have = readJson(dir_ + "/options.json");
        for (auto it = wanted.begin(); it != wanted.end(); ++it)
            if (have.value(it.key()) != it.value())
                throw UsageError("the saved adaptation '" + name + "' was made with another " +
                                 it.key().toStdString() + "; resume it with the same options");
        loadHistory();
        const int saved = lastStateEpoch();
        if (saved > 0) {
            const int state = trainer_->restore(stateDir(saved));
            if (tuner_)
                features_ = describeDataset(progress);
            // The state is written before the history: a kill between the two leaves the state one epoch ahead;
            // that epoch is scored again (its loss is not known).
            if (state == static_cast<int>(history_.size()) + 1) {
                EpochRecord r;
                r.epoch = state;
                r.loss = r.active = std::numeric_limits<double>::quiet_NaN();
                r.test = evaluate(adaptedDescriptors());
                history_.push_back(r);
            } else if (state != static_cast<int>(history_.size()))
                throw DataError("the saved state of adaptation '" + name + "' does not match its history");
        } else if (!history_.empty())
            throw DataError("the saved state of adaptation '" + name + "' is missing");
    }
    if (nonFinite > 0 && progress)
        progress->report(0, 0, std::to_string(nonFinite) + " images without finite features are left out");
    saveOptions();
    saveHistory();
}

DescriptorAdaptation::~DescriptorAdaptation() = default;

int DescriptorAdaptation::finishedEpochs() const { return trainer_->finishedEpochs(); }

RetrievalEvaluator::Result DescriptorAdaptation::evaluate(const torch::Tensor &descriptors) const
{
    return RetrievalEvaluator(split_->testLabels(), options_.evaluation).evaluate(descriptors);
}

torch::Tensor DescriptorAdaptation::originalDescriptors() const { return original_.transform(original_features_); }

torch::Tensor DescriptorAdaptation::describeDataset(Progress *progress) const
{
    torch::NoGradGuard noGrad;
    const Preprocessor pre(model_->input());
    torch::Tensor out = torch::full_like(original_features_, std::numeric_limits<float>::quiet_NaN());
    const torch::Tensor usable = original_features_.isfinite().all(1);
    std::vector<std::int64_t> rows;
    for (std::int64_t i = 0; i < out.size(0); ++i)
        if (usable[i].item<bool>())
            rows.push_back(i);
    constexpr size_t batch = 64;
    for (size_t b = 0; b < rows.size(); b += batch) {
        if (progress && progress->cancelled())
            throw CancelledError();
        std::vector<torch::Tensor> inputs;
        const size_t end = std::min(rows.size(), b + batch);
        for (size_t k = b; k < end; ++k)
            inputs.push_back(pre.tensor(source_->image(rows[k])));
        const torch::Tensor f = tuner_->describe(torch::stack(inputs));
        out.index_copy_(0, torch::tensor(std::vector<std::int64_t>(rows.begin() + static_cast<std::ptrdiff_t>(b),
                                                                   rows.begin() + static_cast<std::ptrdiff_t>(end))),
                        f);
        if (progress)
            progress->report(static_cast<std::int64_t>(end), static_cast<std::int64_t>(rows.size()),
                             "describing the dataset with the fine-tuned network");
    }
    return out;
}

torch::Tensor DescriptorAdaptation::adaptedDescriptors() const
{
    torch::NoGradGuard noGrad;
    torch::Tensor out = trainer_->head().forward(features_.nan_to_num(0, 0, 0)).detach();
    const torch::Tensor bad = features_.isfinite().all(1).logical_not();
    out.index_put_({bad}, std::numeric_limits<float>::quiet_NaN());
    return out;
}

bool DescriptorAdaptation::run(Progress *progress)
{
    if (trainer_->done())
        return false;
    const HeadTrainer::Epoch e = trainer_->runEpoch(progress);
    if (tuner_) {
        try {
            features_ = describeDataset(progress);
        } catch (const CancelledError &) {
            // Stopped while describing: the epoch is trained but not scored; save it so Stop keeps it.
            features_ = describeDataset(nullptr);
        }
    }
    EpochRecord r;
    r.epoch = e.epoch;
    r.loss = e.loss;
    r.active = e.active;
    r.test = evaluate(adaptedDescriptors());
    // The state of each finished epoch goes to a folder of its own, written whole before it is renamed into place;
    // then the history; then the previous epoch's folder goes. A kill at any point leaves a complete state that
    // the history matches, or is one epoch behind (scored again on resume).
    const std::string tmp = stateDir(r.epoch) + ".tmp";
    QDir(q(tmp)).removeRecursively();
    trainer_->save(tmp);
    QDir(q(stateDir(r.epoch))).removeRecursively();
    if (!QDir().rename(q(tmp), q(stateDir(r.epoch))))
        throw IoError("cannot write '" + stateDir(r.epoch) + "'");
    history_.push_back(r);
    saveHistory();
    QDir(q(stateDir(r.epoch - 1))).removeRecursively();
    return !trainer_->done();
}

std::vector<DescriptorAdaptation::Row> DescriptorAdaptation::table() const
{
    std::vector<Row> rows{raw_, before_};
    if (!history_.empty())
        rows.push_back({"adapted (" + std::string(MetricLoss::kindName(options_.training.loss.kind)) + ", " +
                            MetricLoss::miningName(options_.training.loss.mining) + ", " +
                            std::to_string(history_.back().epoch) + " epochs" +
                            (tuner_ ? ", " + std::to_string(tuner_->layers().size()) +
                                          (tuner_->layers().size() == 1 ? " layer" : " layers") + " fine-tuned"
                                    : std::string()) +
                            "), " +
                            std::to_string(trainer_->head().outputDims()) + "-d",
                        trainer_->head().outputDims(), history_.back().test});
    return rows;
}

std::vector<DescriptorAdaptation::Row> DescriptorAdaptation::finish(Progress *progress)
{
    if (history_.empty())
        throw UsageError("the adaptation '" + options_.name + "' has not finished an epoch yet");
    if (progress)
        progress->report(0, 2, "writing the adapted model");
    auto model = Model::load(modelPath_);
    AdaptedModelWriter::write(*model, layer_, pooling_, trainer_->head(), modelPath(),
                              model->sidecar().name.empty() ? options_.name
                                                            : model->sidecar().name + " — " + options_.name,
                              tuner_ ? &tuner_->module() : nullptr);
    if (progress)
        progress->report(1, 2, "building the adapted index");
    DescriptorIndex::Options io;
    io.name = options_.name;
    io.ann = options_.ann;
    io.faiss = options_.faiss;
    DescriptorIndex::fromDescriptors(project_, io, modelPath(), AdaptedModelWriter::headLayer, scanId_, dataset_,
                                     adaptedDescriptors());
    const auto rows = table();
    QJsonArray table;
    for (const Row &r : rows)
        table.append(QJsonObject{{"descriptor", q(r.descriptor)}, {"dims", static_cast<qint64>(r.dims)},
                                 {"result", resultJson(r.result)}});
    writeJson(dir_ + "/result.json", QJsonObject{{"split", q(split_->describe())}, {"table", table},
                                                 {"model", q(modelPath())}, {"index", q(options_.name)}});
    if (progress)
        progress->report(2, 2, "done");
    return rows;
}

std::string DescriptorAdaptation::stateDir(int epoch) const { return dir_ + "/epoch-" + std::to_string(epoch); }

int DescriptorAdaptation::lastStateEpoch() const
{
    int last = 0;
    for (const QFileInfo &fi : QDir(q(dir_)).entryInfoList({"epoch-*"}, QDir::Dirs)) {
        bool ok = false;
        const int epoch = fi.fileName().mid(6).toInt(&ok); // "epoch-N"; "epoch-N.tmp" (unfinished) is not a number
        if (ok && epoch > last && QFileInfo::exists(fi.filePath() + "/trainer_steps.npy"))
            last = epoch;
    }
    return last;
}

void DescriptorAdaptation::saveOptions() const
{
    QJsonObject o = optionsJson(options_, layer_, pooling_);
    o.insert("name", q(options_.name));
    o.insert("epochs", options_.training.epochs);
    o.insert("dataset", q(dataset_));
    o.insert("model", q(modelPath_));
    o.insert("features", q(featureFile_));
    o.insert("split", q(split_->describe()));
    writeJson(dir_ + "/options.json", o);
}

void DescriptorAdaptation::saveHistory() const
{
    QJsonArray epochs;
    for (const auto &r : history_)
        epochs.append(QJsonObject{{"epoch", r.epoch}, {"loss", r.loss}, {"active", r.active},
                                  {"test", resultJson(r.test)}});
    writeJson(dir_ + "/history.json",
              QJsonObject{{"before", resultJson(before_.result)}, {"raw", resultJson(raw_.result)},
                          {"epochs", epochs}});
}

void DescriptorAdaptation::loadHistory()
{
    const QJsonObject o = readJson(dir_ + "/history.json");
    history_.clear();
    for (const QJsonValue &v : o["epochs"].toArray()) {
        EpochRecord r;
        r.epoch = v["epoch"].toInt();
        // An epoch scored again after a kill has no loss: saved as null, read back as NaN (not 0).
        r.loss = v["loss"].toDouble(std::numeric_limits<double>::quiet_NaN());
        r.active = v["active"].toDouble(std::numeric_limits<double>::quiet_NaN());
        r.test = resultOf(v["test"].toObject());
        if (r.epoch != static_cast<int>(history_.size()) + 1)
            throw DataError("the history of adaptation '" + options_.name + "' is damaged (epochs out of order)");
        history_.push_back(r);
    }
}

DescriptorAdaptation::Options DescriptorAdaptation::savedOptions(const std::string &project, const std::string &name)
{
    const std::string file = project + "/adapt-" + name + "/options.json";
    if (!QFileInfo::exists(q(file))) {
        std::string known;
        for (const auto &n : list(project))
            known += (known.empty() ? "" : ", ") + n;
        throw UsageError("no adaptation '" + name + "' in '" + project + "'" +
                         (known.empty() ? std::string() : "; adaptations: " + known));
    }
    const QJsonObject o = readJson(file);
    Options out;
    try {
        out.name = name;
        out.layer = o["layer"].toString().toStdString();
        out.pooling = parseDescriptor(o["descriptor"].toString().toStdString());
        out.head.dims = o["dims"].toInt(out.head.dims);
        out.head.hidden = o["hidden"].toInt(out.head.hidden);
        out.training.loss.kind = MetricLoss::parseKind(o["loss"].toString().toStdString());
        out.training.loss.margin = static_cast<float>(o["margin"].toDouble());
        out.training.loss.mining = MetricLoss::parseMining(o["mining"].toString().toStdString());
        out.training.batch = o["batch"].toInt(out.training.batch);
        out.training.perClass = o["per_class"].toInt(out.training.perClass);
        out.training.learningRate = o["learning_rate"].toDouble(out.training.learningRate);
        out.training.seed = o["seed"].toString().toULongLong();
        out.training.epochs = std::max(1, o["epochs"].toInt(out.training.epochs));
        for (const QJsonValue &c : o["train_classes"].toArray())
            out.split.trainClasses.push_back(c.toInt());
        if (out.split.trainClasses.empty())
            out.split.trainFraction = o["train_fraction"].toDouble(out.split.trainFraction);
        out.split.seed = o["split_seed"].toString().toULongLong();
        out.evaluation.queries = o["queries"].toInt(out.evaluation.queries);
        out.evaluation.seed = o["query_seed"].toString().toULongLong();
        out.evaluation.precisionAt = o["precision_at"].toInt(out.evaluation.precisionAt);
        out.evaluation.metric = SearchIndex::parseMetric(o["metric"].toString().toStdString());
        out.fineTuneBlocks = o["fine_tune_blocks"].toInt(0);
        if (out.fineTuneBlocks > 0)
            out.training.backboneLearningRate = o["backbone_learning_rate"].toDouble();
    } catch (const UsageError &e) {
        throw DataError("'" + file + "' is damaged: " + e.what());
    }
    if (out.layer.empty())
        throw DataError("'" + file + "' names no layer");
    out.resume = true;
    return out;
}

std::vector<std::string> DescriptorAdaptation::list(const std::string &project)
{
    std::vector<std::string> names;
    for (const QFileInfo &fi : QDir(q(project)).entryInfoList({"adapt-*"}, QDir::Dirs, QDir::Name))
        if (QFileInfo::exists(fi.filePath() + "/options.json"))
            names.push_back(fi.fileName().mid(6).toStdString());
    return names;
}

} // namespace convscope
