#include "probe/LayerProbe.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "common/Progress.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "scan/ProjectStore.h"
#include "scan/StoredFeatures.h"

#include <algorithm>
#include <cmath>

namespace convscope {

LayerProbe::LayerProbe(const std::string &project, Options options) : options_(std::move(options))
{
    if (options_.classifiers.empty())
        throw UsageError("no classifier chosen for the probe");
    if (options_.mapDescriptor != "spoc" && options_.mapDescriptor != "mac")
        throw UsageError("unknown map descriptor '" + options_.mapDescriptor + "' (spoc or mac)");
    if (options_.repeats <= 0)
        options_.repeats = options_.split.perClass > 0 ? 5 : 1;
    ProjectStore store(project);
    const auto newest = store.latestComplete();
    if (!newest)
        throw DataError("project '" + project + "' holds no complete scan; run `convscope scan` first");
    auto model = Model::load(newest->modelPath);
    auto source = ImageSource::open(newest->dataset);
    labels_.resize(static_cast<size_t>(source->size()));
    names_.resize(static_cast<size_t>(source->size()));
    for (std::int64_t i = 0; i < source->size(); ++i) {
        labels_[static_cast<size_t>(i)] = source->label(i);
        names_[static_cast<size_t>(i)] = source->name(i);
    }
    if (std::all_of(labels_.begin(), labels_.end(), [](int l) { return l < 0; }))
        throw DataError("the dataset has no labels: a linear probe learns the dataset's classes");
    for (const StoredFeatures &f : StoredFeatures::kept(store, *newest, *model, options_.layers)) {
        const std::string descriptor = descriptorName(f.pooling);
        if (descriptor != "fc" && descriptor != options_.mapDescriptor)
            continue;
        if (std::none_of(sources_.begin(), sources_.end(), [&](const Source &r) { return r.layer == f.layer; }))
            sources_.push_back({f.layer, descriptor, f.file});
    }
    for (const auto &l : options_.layers) {
        const std::string path = model->layer(l).path;
        if (std::none_of(sources_.begin(), sources_.end(), [&](const Source &r) { return r.layer == path; }))
            throw UsageError("no " + options_.mapDescriptor + " or fc features of layer '" + l +
                             "' in the project: scan with --features (or `convscope index PROJECT --layer " + l +
                             "`, which computes them)");
    }
    if (sources_.empty())
        throw DataError("the project's scans kept no features; scan without --features none");
    // Layers in the model's order, so the table reads from the input to the output.
    std::stable_sort(sources_.begin(), sources_.end(), [&](const Source &a, const Source &b) {
        return model->layer(a.layer).index < model->layer(b.layer).index;
    });
    splitHow_ = ProbeSplit::make(labels_, names_, options_.split).how;
}

std::int64_t LayerProbe::steps() const
{
    return static_cast<std::int64_t>(sources_.size() * options_.classifiers.size()) * options_.repeats;
}

bool LayerProbe::run(Progress *progress)
{
    if (next_ >= steps())
        return true;
    if (progress && progress->cancelled())
        throw CancelledError();
    const std::int64_t perSource = static_cast<std::int64_t>(options_.classifiers.size()) * options_.repeats;
    const auto source = static_cast<size_t>(next_ / perSource);
    const auto classifier = static_cast<size_t>((next_ % perSource) / options_.repeats);
    const int repeat = static_cast<int>(next_ % options_.repeats);
    runStep(source, classifier, repeat);
    ++next_;
    if (progress)
        progress->report(next_, steps(), "training linear probes");
    return next_ >= steps();
}

void LayerProbe::runStep(size_t sourceIndex, size_t classifierIndex, int repeat)
{
    const Source &src = sources_[sourceIndex];
    const LinearClassifier::Kind kind = options_.classifiers[classifierIndex];
    if (repeat == 0) {
        Row row;
        row.layer = src.layer;
        row.descriptor = src.descriptor;
        row.classifier = LinearClassifier::kindName(kind);
        rows_.push_back(row);
        accuracies_.clear();
        allConverged_ = true;
    }
    Row &row = rows_.back();
    if (!row.error.empty())
        return; // the first repeat failed: the others would too
    try {
        if (loadedSource_ != sourceIndex) { // read each layer's features once for all its classifiers and repeats
            loaded_ = NpyFile::read(src.file);
            loadedSource_ = sourceIndex;
        }
        const torch::Tensor raw = loaded_;
        if (raw.dim() != 2)
            throw DataError("the stored features of '" + src.layer + "' are not a matrix");
        // A scan with a limit has rows for the first images only; skipped images are NaN rows.
        const std::int64_t n = std::min<std::int64_t>(raw.size(0), static_cast<std::int64_t>(labels_.size()));
        std::vector<int> labels(labels_.begin(), labels_.begin() + n);
        std::vector<std::string> names(names_.begin(), names_.begin() + n);
        const torch::Tensor rowFinite = torch::isfinite(raw.slice(0, 0, n)).all(1);
        const torch::Tensor anyFinite = torch::isfinite(raw.slice(0, 0, n)).any(1);
        const auto *finite = rowFinite.data_ptr<bool>();
        const auto *some = anyFinite.data_ptr<bool>();
        std::int64_t partial = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            if (!finite[i])
                labels[static_cast<size_t>(i)] = -1;
            partial += !finite[i] && some[i];
        }
        if (n > 0 && !rowFinite.any().item<bool>())
            throw DataError("the features of '" + src.layer + "' are NaN or infinite for every image");
        if (partial > 0)
            throw DataError("the features of '" + src.layer + "' hold NaN or infinite values for " +
                            std::to_string(partial) + " images (the layer overflows or divides by zero)");
        ProbeSplit::Options so = options_.split;
        so.seed = options_.split.seed + static_cast<std::uint64_t>(repeat);
        const ProbeSplit split = ProbeSplit::make(labels, names, so);
        const auto index = [](const std::vector<std::int64_t> &v) {
            return torch::tensor(v, torch::kLong);
        };
        const torch::Tensor trainIdx = index(split.train), testIdx = index(split.test);
        const torch::Tensor y = torch::tensor(std::vector<std::int64_t>(labels.begin(), labels.end()), torch::kLong);
        LinearClassifier::Options co;
        co.kind = kind;
        co.c = options_.c;
        co.maxIterations = options_.maxIterations;
        LinearClassifier classifier(co);
        const int classes = *std::max_element(labels.begin(), labels.end()) + 1;
        classifier.fit(raw.index_select(0, trainIdx), y.index_select(0, trainIdx), classes);
        accuracies_.push_back(classifier.accuracy(raw.index_select(0, testIdx), y.index_select(0, testIdx)));
        allConverged_ = allConverged_ && classifier.converged();
        row.dims = raw.size(1);
        row.trainImages = static_cast<std::int64_t>(split.train.size());
        row.testImages = static_cast<std::int64_t>(split.test.size());
        row.iterations = classifier.iterations();
        row.converged = allConverged_;
        row.repeats = static_cast<int>(accuracies_.size());
        double mean = 0;
        for (double a : accuracies_)
            mean += a;
        mean /= static_cast<double>(accuracies_.size());
        double var = 0;
        for (double a : accuracies_)
            var += (a - mean) * (a - mean);
        row.accuracy = mean;
        row.spread = accuracies_.size() > 1 ? std::sqrt(var / static_cast<double>(accuracies_.size() - 1)) : 0.0;
    } catch (const CancelledError &) {
        throw;
    } catch (const Error &e) {
        row.error = e.what();
    }
}

std::vector<LayerProbe::Row> LayerProbe::compare(const std::string &project, const Options &options, Progress *progress)
{
    LayerProbe probe(project, options);
    while (!probe.run(progress)) {
    }
    return probe.rows();
}

} // namespace convscope
