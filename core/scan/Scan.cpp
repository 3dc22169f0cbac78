#include "scan/Scan.h"

#include "common/Error.h"
#include "shard/ShardPlan.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <chrono>

namespace convscope {

std::vector<int> Scan::defaultLayers(const Model &model)
{
    std::vector<int> out;
    for (const auto &l : model.layers())
        if (l.capturable && l.outputShape.size() == 4 && (l.kind == LayerKind::Conv || l.kind == LayerKind::Block))
            out.push_back(l.index);
    return out;
}

std::vector<Scan::Feature> Scan::featuresNamed(const Model &model, const std::string &name)
{
    std::string layerName = name, pooling;
    if (auto colon = name.rfind(':'); colon != std::string::npos) {
        layerName = name.substr(0, colon);
        pooling = name.substr(colon + 1);
    }
    const LayerInfo &l = model.layer(layerName);
    if (!l.capturable)
        throw UsageError("cannot keep features of '" + l.path + "': " + l.whyNot);
    if (l.outputShape.size() == 2) {
        if (!pooling.empty())
            throw UsageError("'" + l.path + "' is fully connected: its output is kept as it is (drop ':" + pooling +
                             "')");
        return {{l.index, FeaturePooling::None, l.outputShape[1], l.path}};
    }
    if (l.outputShape.size() != 4)
        throw UsageError("cannot keep features of '" + l.path + "': its output is neither a vector nor a map");
    std::vector<Feature> out;
    if (pooling.empty() || pooling == "avg")
        out.push_back({l.index, FeaturePooling::Average, l.outputShape[1], l.path + ":avg"});
    if (pooling.empty() || pooling == "max")
        out.push_back({l.index, FeaturePooling::Max, l.outputShape[1], l.path + ":max"});
    if (out.empty())
        throw UsageError("unknown pooling ':" + pooling + "' (use :avg or :max)");
    return out;
}

std::vector<Scan::Feature> Scan::defaultFeatures(const Model &model)
{
    std::vector<Feature> out;
    std::vector<int> linear;
    for (const auto &l : model.layers())
        if (l.capturable && l.kind == LayerKind::Linear && l.outputShape.size() == 2)
            linear.push_back(l.index);
    const auto maps = defaultLayers(model);
    if (!maps.empty())
        for (auto &f : featuresNamed(model, model.layers()[maps.back()].path))
            out.push_back(f);
    // Every fully connected layer except the last one (the class scores).
    for (size_t i = 0; i + 1 < linear.size(); ++i)
        out.push_back(featuresNamed(model, model.layers()[linear[i]].path).front());
    return out;
}

Scan::Scan(std::shared_ptr<const Model> model, const ImageSource &source, Options options)
    : model_(std::move(model)), source_(source), options_(std::move(options)),
      reader_(source, Preprocessor(model_->input()))
{
    std::vector<int> which;
    if (options_.layers.empty()) {
        which = defaultLayers(*model_);
    } else {
        for (const auto &name : options_.layers)
            which.push_back(model_->layer(name).index);
    }
    for (int index : which) {
        const LayerInfo &l = model_->layers()[index];
        if (!l.capturable)
            throw UsageError("cannot scan '" + l.path + "': " + l.whyNot);
        if (l.outputShape.size() != 4 && l.outputShape.size() != 2)
            throw UsageError("cannot scan '" + l.path + "': its output is not channels × height × width");
        const int64_t channels = l.outputShape[1];
        results_.push_back({index, TopKTracker(channels, options_.k, TopKTracker::Statistic::SpatialMax),
                            TopKTracker(channels, options_.k, TopKTracker::Statistic::SpatialMean)});
    }
    if (which.empty())
        throw UsageError("no layer to scan");
    for (int index : which)
        layerSource_.push_back(sourceFor(index));
    if (!options_.noFeatures) {
        if (options_.features.empty())
            features_ = defaultFeatures(*model_);
        for (const auto &name : options_.features)
            for (auto &f : featuresNamed(*model_, name))
                features_.push_back(f);
    }
    for (const auto &f : features_)
        featureSource_.push_back(sourceFor(f.layer));
    datasetImages_ = options_.limit >= 0 ? std::min(options_.limit, source.size()) : source.size();
    if (datasetImages_ == 0)
        throw DataError("the dataset holds no images");
    total_ = datasetImages_;
    if (options_.shardCount > 0) {
        const ShardPlan plan(datasetImages_, options_.shardCount);
        if (options_.shardIndex < 0 || options_.shardIndex >= options_.shardCount)
            throw UsageError("shard " + std::to_string(options_.shardIndex) + " of " +
                             std::to_string(options_.shardCount) + " does not exist (shards are 0 to " +
                             std::to_string(options_.shardCount - 1) + ")");
        first_ = done_ = plan.first(options_.shardIndex);
        total_ = plan.end(options_.shardIndex);
    }
    options_.batchSize = std::max(1, options_.batchSize);
}

Scan::~Scan() = default;

Scan::Source Scan::sourceFor(int layer)
{
    const bool map = model_->layers()[static_cast<size_t>(layer)].outputShape.size() == 4;
    std::vector<int> &list = map ? reduced_ : full_;
    auto at = std::find(list.begin(), list.end(), layer);
    if (at == list.end())
        at = list.insert(list.end(), layer);
    return {map, static_cast<size_t>(at - list.begin())};
}

TopKTracker &Scan::tracker(int index)
{
    if (index < 0 || index >= 2 * static_cast<int>(results_.size()))
        throw UsageError("no tracker " + std::to_string(index));
    LayerResult &r = results_[static_cast<size_t>(index / 2)];
    return index % 2 ? r.byMean : r.byMax;
}

void Scan::resume(std::int64_t done, const std::vector<std::vector<TopKTracker::Accepted>> &accepted)
{
    if (prefetcher_ || spent_)
        throw UsageError("resume() must come before the first run()");
    if (done < first_ || done > total_)
        throw DataError("the stored scan finished up to image " + std::to_string(done) + " but this scan covers " +
                        std::to_string(first_) + " to " + std::to_string(total_));
    if (accepted.size() > 2 * results_.size())
        throw DataError("the stored scan has more rankings than this scan's layers");
    for (size_t t = 0; t < accepted.size(); ++t) {
        TopKTracker &tr = tracker(static_cast<int>(t));
        for (const auto &a : accepted[t])
            tr.offer(a.channel, a.entry);
    }
    done_ = done;
}

void Scan::recordAccepted(bool on)
{
    for (auto &r : results_) {
        r.byMax.setRecording(on);
        r.byMean.setRecording(on);
    }
}

std::vector<std::vector<TopKTracker::Accepted>> Scan::takeAccepted()
{
    std::vector<std::vector<TopKTracker::Accepted>> out(2 * results_.size());
    for (size_t i = 0; i < results_.size(); ++i) {
        out[2 * i] = results_[i].byMax.takeAccepted();
        out[2 * i + 1] = results_[i].byMean.takeAccepted();
    }
    return out;
}

std::int64_t Scan::done() const
{
    return done_;
}

Scan::Timings Scan::timings() const
{
    Timings t = timings_;
    t.decodedWhileWaiting = prefetcher_ ? prefetcher_->decodedByConsumer() : 0;
    return t;
}

bool Scan::run(int batches)
{
    if (spent_)
        throw UsageError("this scan stopped on an error; start a new one and resume it");
    if (!prefetcher_)
        prefetcher_ = std::make_unique<BatchPrefetcher>(reader_, total_, options_.batchSize,
                                                        BatchPrefetcher::Options{}, done_);
    for (int b = 0; b < batches; ++b) {
        const auto start = std::chrono::steady_clock::now();
        std::optional<Batch> next = prefetcher_->next();
        timings_.input += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!next)
            break;
        spent_ = true; // until the batch is through the sink
        process(*next);
        spent_ = false;
    }
    return done_ < total_;
}

void Scan::process(Batch &batch)
{
    ScanBatch out;
    out.first = done_;
    out.count = static_cast<std::int64_t>(batch.indices.size() + batch.skipped.size());
    out.skipped = batch.skipped;
    out.indices = batch.indices;
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
    if (batch.input.defined()) {
        // Maps are reduced to per-channel statistics inside the forward pass; vectors come whole.
        auto start = Clock::now();
        std::vector<Probe::Reduced> reduced;
        Probe::Output probed = model_->probe().run(batch.input, full_, reduced_, reduced);
        timings_.forward += since(start);
        start = Clock::now();
        std::vector<ChannelStatistics> vectorStats(full_.size());
        auto statsOf = [&](const Source &src) -> ChannelStatistics {
            if (src.reduced)
                return {reduced[src.slot].max, reduced[src.slot].argmax, reduced[src.slot].mean};
            if (!vectorStats[src.slot].max.defined())
                vectorStats[src.slot] = ChannelStatistics::of(probed.captured[src.slot]);
            return vectorStats[src.slot];
        };
        std::vector<ChannelStatistics> layerStats(results_.size());
        for (size_t i = 0; i < results_.size(); ++i)
            layerStats[i] = statsOf(layerSource_[i]); // one set feeds both rankings
        // The rankings are independent: the cores the forward pass just left share them, each taking the next
        // ranking when done with one (deep layers have many more channels than early ones: halves would not do).
        const auto rankings = static_cast<std::int64_t>(2 * results_.size());
        std::atomic<std::int64_t> nextRanking{0};
        at::parallel_for(0, at::get_num_threads(), 1, [&](std::int64_t, std::int64_t) {
            for (std::int64_t t = nextRanking++; t < rankings; t = nextRanking++) {
                const auto i = static_cast<size_t>(t / 2);
                const auto &shape = model_->layers()[static_cast<size_t>(results_[i].layer)].outputShape;
                const std::int64_t width = shape.size() == 4 ? shape[3] : 1;
                if (t % 2 == 0)
                    results_[i].byMax.addStatistics(layerStats[i].max, layerStats[i].argmax, width, batch.indices);
                else
                    results_[i].byMean.addStatistics(layerStats[i].mean, layerStats[i].argmax, width, batch.indices);
            }
        });
        for (size_t f = 0; f < features_.size(); ++f) {
            const Source &src = featureSource_[f];
            switch (features_[f].pooling) {
            case FeaturePooling::None: {
                const torch::Tensor &a = probed.captured[src.slot];
                out.features.push_back(a.reshape({a.size(0), -1}).to(torch::kFloat32));
                break;
            }
            case FeaturePooling::Average: out.features.push_back(reduced[src.slot].mean.to(torch::kFloat32)); break;
            case FeaturePooling::Max: out.features.push_back(reduced[src.slot].max.to(torch::kFloat32)); break;
            }
        }
        const size_t n = batch.indices.size();
        out.labels.resize(n);
        for (size_t i = 0; i < n; ++i)
            out.labels[i] = source_.label(batch.indices[i]);
        out.predicted.assign(n, -1);
        out.confidence.assign(n, 0.0f);
        if (model_->numClasses() > 0) {
            torch::Tensor p = Model::firstTensor(probed.modelOutput).to(torch::kFloat32).softmax(1);
            auto [confT, clsT] = p.max(1);
            const auto conf = confT.accessor<float, 1>();
            const auto cls = clsT.accessor<int64_t, 1>();
            for (size_t i = 0; i < n; ++i) {
                out.predicted[i] = static_cast<int>(cls[static_cast<int64_t>(i)]);
                out.confidence[i] = conf[static_cast<int64_t>(i)];
                if (out.labels[i] >= 0) {
                    ++labelled_;
                    correct_ += out.predicted[i] == out.labels[i];
                }
            }
        }
        timings_.rankings += since(start);
    }
    const auto start = Clock::now();
    if (sink_)
        sink_(out);
    timings_.sink += since(start);
    skipped_.insert(skipped_.end(), batch.skipped.begin(), batch.skipped.end());
    done_ = out.first + out.count;
}

} // namespace convscope
