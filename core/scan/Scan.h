#pragma once
// One batched pass of a model over a dataset that keeps, for every selected layer and channel, the top-k responses
// from distinct images (by spatial maximum, with position: the top-9 patches; and by spatial mean: max-response
// images), and per image its prediction and pooled feature vectors of chosen layers. Memory: layers × channels × k
// plus one batch, whatever the dataset size — per-image results leave through the batch sink (a ProjectStore
// writes them to disk). Decoding the next batch overlaps the forward pass of the current one. Scanned maps are
// reduced to per-channel max/argmax/mean inside the forward graph (Probe::run with `reduced`), so no map outlives
// the layer that reads it, as in a plain forward.
//
// Chunked: init in the constructor (and resume() when continuing a stored scan), then run(batches) until it
// returns false, so callers can show progress and cancel.
#include "data/BatchPrefetcher.h"
#include "model/Model.h"
#include "scan/FeaturePooling.h"
#include "scan/ScanBatch.h"
#include "scan/TopKTracker.h"

#include <functional>
#include <memory>

namespace convscope {

class Scan {
public:
    struct Options {
        std::vector<std::string> layers; ///< layer names (as Model::layer takes); empty = every conv layer and
                                         ///< every block whose output is a 4-D map (defaultLayers)
        int k = 9;                       ///< entries per channel; larger costs memory layers × channels × k
        int batchSize = 64;              ///< images per forward pass; does not change any result
        std::int64_t limit = -1;         ///< scan only the first `limit` images (-1 = all)
        /// Layers whose pooled outputs are kept per image (for the map and search); empty = defaultFeatures.
        /// Fully connected outputs are kept as they are, maps as global average and global maximum.
        std::vector<std::string> features;
        bool noFeatures = false;         ///< keep no feature vectors at all
        /// Scan only shard `shardIndex` of `shardCount` (0 = the whole dataset): a contiguous run of the T images
        /// scanned (after `limit`), on multiples of 64 images, so shards merged in order keep the dataset's row
        /// order and see a whole scan's batches (ShardPlan).
        int shardIndex = 0, shardCount = 0;
    };

    /// One kept feature: a layer's output, pooled.
    struct Feature {
        int layer = -1;         ///< index into Model::layers()
        FeaturePooling pooling = FeaturePooling::None;
        std::int64_t dims = 0;  ///< vector length (channels, or the fully connected width)
        std::string name;       ///< "classifier.fc1", "features:avg", "features:max"
    };

    struct LayerResult {
        int layer;                ///< index into Model::layers()
        TopKTracker byMax;        ///< top-k patches: spatial maximum and its position
        TopKTracker byMean;       ///< max-response images by the map's mean
    };

    /// Throws UsageError for an unknown or uncapturable layer, DataError for an empty dataset.
    Scan(std::shared_ptr<const Model> model, const ImageSource &source, Options options);
    ~Scan();

    /// Continue a stored scan: images [0, done) are finished and `accepted[t]` are the entries tracker t took in
    /// them (trackerIndex order). Call before the first run(). Throws DataError when they do not fit this scan.
    void resume(std::int64_t done, const std::vector<std::vector<TopKTracker::Accepted>> &accepted);

    /// Called after every batch, on the thread that calls run(). An exception thrown by the sink leaves run() and
    /// that batch does not count as done; the Scan is then spent (resume a new one from what the sink stored).
    void setBatchSink(std::function<void(const ScanBatch &)> sink) { sink_ = std::move(sink); }

    /// Keep, until taken, the entries that enter the rankings (off by default: then nothing but the rankings
    /// grows with the dataset). A store that logs progress turns it on.
    void recordAccepted(bool on);
    /// Per tracker (trackerIndex order), the entries that entered its top k since the last take and are still in
    /// it: what a store logs so that resume() rebuilds the rankings (TopKTracker::takeAccepted).
    std::vector<std::vector<TopKTracker::Accepted>> takeAccepted();

    /// Advances by at most `batches` batches; true while images remain.
    bool run(int batches = 1);
    /// One past the last finished image (images are scanned in order): from first() to total().
    std::int64_t done() const;
    /// The images this scan covers are [first(), total()): the whole dataset (after `limit`) unless a shard.
    std::int64_t first() const { return first_; }
    std::int64_t total() const { return total_; }
    int shardIndex() const { return options_.shardIndex; }
    int shardCount() const { return options_.shardCount; } ///< 0: not a shard
    /// Images of the dataset after `limit` (what the shards of one scan split).
    std::int64_t datasetImages() const { return datasetImages_; }
    const std::vector<LayerResult> &layers() const { return results_; }
    const std::vector<Feature> &features() const { return features_; }
    /// Trackers in a fixed order: layer i's byMax is 2i, its byMean 2i+1.
    static int trackerIndex(int layer, TopKTracker::Statistic statistic)
    {
        return 2 * layer + (statistic == TopKTracker::Statistic::SpatialMean ? 1 : 0);
    }
    TopKTracker &tracker(int index);
    /// Images skipped in this run (bad files), with the reason.
    const std::vector<SkippedImage> &skipped() const { return skipped_; }
    /// Where this run's time went (seconds of wall time on the thread that calls run()): for profiling and the
    /// benchmark's breakdown.
    struct Timings {
        double input = 0;    ///< waiting for the next batch, or decoding part of it (BatchPrefetcher::next)
        double forward = 0;  ///< the forward pass, with the maps' statistics taken inside it
        double rankings = 0; ///< top-k updates, features and predictions
        double sink = 0;     ///< the batch sink (a store's writes)
        std::int64_t decodedWhileWaiting = 0; ///< images the scanning thread decoded itself
    };
    Timings timings() const;
    /// Labelled images seen in this run, and how many of them the model got right.
    std::int64_t labelled() const { return labelled_; }
    std::int64_t correct() const { return correct_; }

    /// The default layer selection for a model (conv layers and 4-D block outputs, capturable).
    static std::vector<int> defaultLayers(const Model &model);
    /// The default features: every fully connected layer but the model's output layer, and the last default layer
    /// (average- and max-pooled).
    static std::vector<Feature> defaultFeatures(const Model &model);
    /// A feature spec by name ("classifier.fc1", "features:avg", "features:max"; a map layer alone means both).
    static std::vector<Feature> featuresNamed(const Model &model, const std::string &name);

private:
    void process(Batch &batch);

    std::shared_ptr<const Model> model_;
    const ImageSource &source_;
    Options options_;
    BatchReader reader_;
    std::vector<LayerResult> results_;
    std::vector<Feature> features_;
    /// Where a layer's numbers come from in a pass: its whole output (fully connected layers, `full_`), or its
    /// per-channel statistics computed inside the graph (maps, `reduced_`), at position `slot`.
    struct Source {
        bool reduced = false;
        size_t slot = 0;
    };
    Source sourceFor(int layer);
    std::vector<int> full_, reduced_;  ///< probe calls per pass
    std::vector<Source> layerSource_;  ///< per scanned layer
    std::vector<Source> featureSource_; ///< per feature
    std::int64_t first_ = 0, total_ = 0, datasetImages_ = 0;
    std::int64_t done_ = 0;          ///< one past the last finished image
    bool spent_ = false;
    std::unique_ptr<BatchPrefetcher> prefetcher_;
    std::vector<SkippedImage> skipped_;
    std::int64_t labelled_ = 0, correct_ = 0;
    std::function<void(const ScanBatch &)> sink_;
    Timings timings_;
};

} // namespace convscope
