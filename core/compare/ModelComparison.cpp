#include "compare/ModelComparison.h"

#include "common/Error.h"
#include "common/Progress.h"
#include "common/TextFormat.h"
#include "compare/TensorMemoryMeter.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "model/AccuracyEvaluator.h"
#include "model/Model.h"
#include "model/ModulePath.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace convscope {

namespace {

double median(std::vector<double> v)
{
    if (v.empty())
        return NAN;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::int64_t tensorBytes(const torch::jit::Module &module)
{
    std::int64_t bytes = 0;
    for (const auto &p : module.parameters())
        bytes += static_cast<std::int64_t>(p.numel() * p.element_size());
    for (const auto &b : module.buffers())
        bytes += static_cast<std::int64_t>(b.numel() * b.element_size());
    return bytes;
}

/// True when every kernel dimension in a cost category such as "Conv 1x1" or "Conv 1x1x1" is 1.
bool pointwiseCategory(const std::string &category)
{
    const std::string kernel = category.substr(5);
    return !kernel.empty() && kernel.find_first_not_of("1x") == std::string::npos;
}

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

} // namespace

ModelComparison::ModelComparison(std::vector<std::string> models, const std::string &dataset, Options options)
    : paths_(std::move(models)), options_(options)
{
    if (paths_.empty())
        throw UsageError("no models to compare");
    options_.rounds = std::max(1, options_.rounds);
    options_.singleRuns = std::max(1, options_.singleRuns);
    options_.throughputBatch = std::max(1, options_.throughputBatch);
    options_.throughputRuns = std::max(1, options_.throughputRuns);
    source_ = ImageSource::open(dataset);
    if (source_->size() == 0)
        throw DataError("the dataset holds no images");
    datasetDescription_ = source_->description();
    rows_.resize(paths_.size());
    models_.resize(paths_.size());
    singleInput_.resize(paths_.size());
    batchInput_.resize(paths_.size());
    singleTimes_.resize(paths_.size());
    batchTimes_.resize(paths_.size());
    for (size_t i = 0; i < paths_.size(); ++i) {
        rows_[i].path = paths_[i];
        rows_[i].name = std::filesystem::path(paths_[i]).filename().string();
    }
}

ModelComparison::~ModelComparison() = default;

std::shared_ptr<const Model> ModelComparison::model(size_t i) const
{
    return i < models_.size() ? models_[i] : nullptr;
}

int ModelComparison::datasetClasses() const
{
    if (datasetClasses_ >= 0)
        return datasetClasses_;
    datasetClasses_ = static_cast<int>(source_->classNames().size());
    if (datasetClasses_ == 0) {
        const std::int64_t n =
            options_.limit >= 0 ? std::min(options_.limit, source_->size()) : source_->size();
        for (std::int64_t i = 0; i < n; ++i)
            datasetClasses_ = std::max(datasetClasses_, source_->label(i) + 1);
    }
    return datasetClasses_;
}

ModelComparison::Shares ModelComparison::sharesOf(const Model &model)
{
    Shares s;
    double total = 0;
    for (const auto &c : model.costSummary()) {
        const double macs = static_cast<double>(c.macs);
        total += macs;
        if (c.category.rfind("Conv dw ", 0) == 0)
            s.depthwise += macs;
        else if (c.category.rfind("Conv ", 0) == 0 && pointwiseCategory(c.category))
            s.pointwise += macs;
        else if (c.category.rfind("Conv ", 0) == 0)
            s.full += macs;
        else if (c.category == "Linear")
            s.fullyConnected += macs;
        else
            s.other += macs;
    }
    if (total > 0)
        for (double *v : {&s.depthwise, &s.pointwise, &s.full, &s.fullyConnected, &s.other})
            *v /= total;
    return s;
}

void ModelComparison::load(size_t i)
{
    Row &row = rows_[i];
    Model::Options mo;
    mo.sidecar = options_.sidecar;
    auto model = Model::load(paths_[i], mo);
    row.format = model->format();
    if (!model->sidecar().name.empty())
        row.name = model->sidecar().name;
    const InputSpec &in = model->input();
    row.inputWidth = in.width;
    row.inputHeight = in.height;
    row.inputChannels = in.channels;
    row.classes = model->numClasses();
    row.params = ModulePath::parameterCount(model->module());
    row.macs = 0;
    for (const auto &c : model->costSummary())
        row.macs += c.macs;
    row.shares = sharesOf(*model);
    for (const auto &l : model->layers())
        if (l.kind == LayerKind::Conv) {
            row.lastConv = l.path;
            row.lastConvField = l.field;
        }
    row.weightBytes = tensorBytes(model->module());

    // The images every timed forward pass sees: the dataset's first ones, as this model takes them.
    Preprocessor pre(in);
    const std::int64_t n = options_.throughputBatch;
    std::vector<torch::Tensor> images;
    for (std::int64_t k = 0; k < source_->size() && static_cast<std::int64_t>(images.size()) < std::min<std::int64_t>(n, 8);
         ++k) {
        try {
            images.push_back(pre.tensor(source_->image(k)));
        } catch (const Error &) { // an unreadable image is left out here; the evaluation names it
        }
    }
    if (images.empty())
        throw DataError("none of the dataset's first images could be read");
    std::vector<torch::Tensor> batch;
    for (std::int64_t k = 0; k < n; ++k)
        batch.push_back(images[static_cast<size_t>(k) % images.size()]);
    singleInput_[i] = images.front().unsqueeze(0);
    batchInput_[i] = torch::stack(batch);

    // Peak memory at batch 1 and at the throughput batch; these runs also warm the model up for the timing.
    {
        TensorMemoryMeter::Scope meter;
        model->forward(singleInput_[i]);
        row.peakBytes1 = row.weightBytes + meter.peakBytes();
    }
    try {
        TensorMemoryMeter::Scope meter;
        model->forward(batchInput_[i]);
        row.peakBytesBatch = row.weightBytes + meter.peakBytes();
    } catch (const std::exception &e) { // e.g. a traced model with its batch size baked in: batch 1 only
        row.throughputNote = "does not run at batch " + std::to_string(n) + ": " + firstLine(e.what());
        batchInput_[i] = torch::Tensor();
    }
    models_[i] = model;

    const int classes = datasetClasses();
    if (row.classes <= 0)
        row.accuracyNote = "the model does not output class scores";
    else if (classes == 0)
        row.accuracyNote = "the dataset has no labels";
    else if (classes != row.classes)
        row.accuracyNote = "the model has " + std::to_string(row.classes) + " classes, the dataset " +
                           std::to_string(classes) + ": its labels are not the model's classes";
}

bool ModelComparison::evaluateStep(size_t i)
{
    Row &row = rows_[i];
    if (!evaluator_) {
        AccuracyEvaluator::Options eo;
        eo.batchSize = options_.evaluationBatch;
        eo.topK = options_.topK;
        eo.limit = options_.limit;
        evaluator_ = std::make_unique<AccuracyEvaluator>(models_[i], *source_, eo);
    }
    const bool more = evaluator_->run(1);
    if (more)
        return false;
    const auto &r = evaluator_->result();
    row.evaluated = r.evaluated;
    row.labelled = r.labelled;
    if (r.labelled > 0) {
        row.top1 = r.top1();
        row.topK = r.topK();
    } else {
        row.accuracyNote = "no image of the dataset could be read with a label";
    }
    evaluator_.reset();
    return true;
}

void ModelComparison::timeStep(size_t i)
{
    const Model &model = *models_[i];
    for (int r = 0; r < options_.singleRuns; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        model.forward(singleInput_[i]);
        singleTimes_[i].push_back(seconds(std::chrono::steady_clock::now() - t0));
    }
    for (int r = 0; batchInput_[i].defined() && r < options_.throughputRuns; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        model.forward(batchInput_[i]);
        batchTimes_[i].push_back(seconds(std::chrono::steady_clock::now() - t0));
    }
}

void ModelComparison::finishTiming()
{
    for (size_t i = 0; i < rows_.size(); ++i) {
        if (!models_[i])
            continue;
        rows_[i].msPerImage = 1000.0 * median(singleTimes_[i]);
        const double batch = median(batchTimes_[i]);
        rows_[i].imagesPerSecond = batch > 0 ? options_.throughputBatch / batch : NAN;
    }
}

bool ModelComparison::run(Progress *progress)
{
    if (progress && progress->cancelled())
        throw CancelledError();
    const size_t n = rows_.size();
    auto fail = [&](size_t i, const std::string &why) {
        rows_[i].error = why;
        models_[i].reset();
        evaluator_.reset();
    };
    switch (phase_) {
    case Phase::Load:
        if (progress)
            progress->report(static_cast<std::int64_t>(current_), static_cast<std::int64_t>(n),
                             "loading " + rows_[current_].name);
        try {
            load(current_);
        } catch (const CancelledError &) {
            throw;
        } catch (const std::exception &e) {
            fail(current_, std::string(e.what()));
        }
        if (++current_ == n) {
            current_ = 0;
            phase_ = options_.accuracy ? Phase::Evaluate : options_.timing ? Phase::Time : Phase::Done;
            distinguishNames();
        }
        break;
    case Phase::Evaluate: {
        bool finished = true;
        if (models_[current_] && rows_[current_].accuracyNote.empty()) {
            try {
                finished = evaluateStep(current_);
                if (progress && evaluator_)
                    progress->report(evaluator_->done(), evaluator_->total(), "evaluating " + rows_[current_].name);
            } catch (const CancelledError &) {
                throw;
            } catch (const std::exception &e) { // no accuracy; the model's other columns are still measured
                rows_[current_].accuracyNote = "evaluation failed: " + firstLine(e.what());
                evaluator_.reset();
                finished = true;
            }
        }
        if (finished && ++current_ == n) {
            current_ = 0;
            phase_ = options_.timing ? Phase::Time : Phase::Done;
        }
        break;
    }
    case Phase::Time: {
        // Odd rounds go backwards so that no model always runs right after the same other one.
        const size_t i = round_ % 2 ? n - 1 - current_ : current_;
        if (progress)
            progress->report(round_ * static_cast<std::int64_t>(n) + static_cast<std::int64_t>(current_),
                             options_.rounds * static_cast<std::int64_t>(n), "timing " + rows_[i].name);
        if (models_[i]) {
            try {
                timeStep(i);
            } catch (const std::exception &e) {
                fail(i, std::string(e.what()));
            }
        }
        if (++current_ == n) {
            current_ = 0;
            if (++round_ == options_.rounds) {
                finishTiming();
                phase_ = Phase::Done;
            }
        }
        break;
    }
    case Phase::Done:
        break;
    }
    return phase_ == Phase::Done;
}

void ModelComparison::distinguishNames()
{
    // Two rows of the same name (the same model as TorchScript and ONNX, or one sidecar shared by checkpoints): each
    // gets its file name added.
    std::vector<std::string> names;
    for (const auto &r : rows_)
        names.push_back(r.name);
    for (size_t i = 0; i < rows_.size(); ++i)
        if (std::count(names.begin(), names.end(), names[i]) > 1)
            rows_[i].name = names[i] + " (" + std::filesystem::path(rows_[i].path).filename().string() + ")";
}

double ModelComparison::fraction() const
{
    const double n = static_cast<double>(rows_.size());
    // Rough weights: loading 10 %, evaluation 60 %, timing 30 % of the work (whichever phases run).
    const double load = 0.1, evaluate = options_.accuracy ? 0.6 : 0.0, time = options_.timing ? 0.3 : 0.0;
    const double all = load + evaluate + time;
    switch (phase_) {
    case Phase::Load:
        return load * current_ / n / all;
    case Phase::Evaluate: {
        double within = evaluator_ && evaluator_->total() ? double(evaluator_->done()) / evaluator_->total() : 0.0;
        return (load + evaluate * (current_ + within) / n) / all;
    }
    case Phase::Time:
        return (load + evaluate + time * (round_ * n + current_) / (options_.rounds * n)) / all;
    case Phase::Done:
        return 1.0;
    }
    return 1.0;
}

std::vector<ModelComparison::Row> ModelComparison::compare(const std::vector<std::string> &models,
                                                           const std::string &dataset, const Options &options,
                                                           Progress *progress)
{
    ModelComparison c(models, dataset, options);
    while (!c.run(progress)) {
    }
    return c.rows();
}

} // namespace convscope
