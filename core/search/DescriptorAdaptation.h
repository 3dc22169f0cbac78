#pragma once
// Adapts a project's descriptors to its own labelled images (Babenko et al. "Neural Codes" fine-tuning; Radenović
// et al.; FaceNet): a projection head trained with a triplet or contrastive loss on the stored features of one
// layer, evaluated on held-out test images (unseen classes or an ordinary split) before and after, saved as a
// TorchScript model and as a search index that `search` and the Search tab use like any other.
//
// Everything lives in `PROJECT/adapt-NAME/` (options, per-epoch history, the trainer's state after the last finished
// epoch in epoch-N/, model.pt + model.json, result.json) and `PROJECT/index-NAME/` (the adapted index).
//
// Usage: DescriptorAdaptation a(project, options, progress);  // finds or computes the features, evaluates "before"
//        while (a.run(progress)) {}                           // one epoch per call; history() grows
//        a.finish(progress);                                  // model, index, before/after table
// A stopped run keeps its last finished epoch; `resume` continues it (to `training.epochs` in all).
#include "common/Progress.h"
#include "scan/FeaturePooling.h"
#include "search/AdaptationSplit.h"
#include "search/BackboneTuner.h"
#include "search/FaissIndex.h"
#include "search/HeadTrainer.h"
#include "search/ProjectionHead.h"
#include "search/RetrievalEvaluator.h"

#include <torch/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace convscope {

class ImageSource;
class Model;

class DescriptorAdaptation {
public:
    struct Options {
        std::string name;                      ///< required: the adaptation's (and its index's) name
        std::string layer;                     ///< layer the descriptor comes from (path, display name or index)
        std::optional<FeaturePooling> pooling; ///< fc, spoc or mac; unset = fc for vectors, spoc for maps
        ProjectionHead::Options head;          ///< descriptor size (128) and hidden width
        HeadTrainer::Options training;         ///< loss, margin, mining, epochs, batches, learning rate, seed
        AdaptationSplit::Options split;        ///< unseen classes or an ordinary fraction
        RetrievalEvaluator::Options evaluation; ///< queries (drawn from the test images) per evaluation
        /// 0 = train the head on the stored features (fast; the default). K ≥ 1 = also fine-tune the network's
        /// last K layers with weights up to `layer` (and their batch norms) end to end on the images — slower:
        /// every step runs its images through the network, and every epoch describes the dataset again.
        int fineTuneBlocks = 0;
        bool resume = false;                   ///< continue the saved training called `name`
        std::string ann;                       ///< adapted index: "" = exact, "hnsw" or "ivfpq"
        FaissIndex::Options faiss;
    };
    struct EpochRecord {
        int epoch = 0;
        double loss = 0, active = 0;
        RetrievalEvaluator::Result test; ///< on the test images after this epoch
    };
    struct Row {
        std::string descriptor; ///< "original fc2 fc, PCA 128", "adapted (triplet, hard), 128-d"
        std::int64_t dims = 0;
        RetrievalEvaluator::Result result;
    };

    /// Reads the features (computing them first when the project has none for the layer, reporting to
    /// `progress`), splits, fits the original descriptor's PCA on the training images and scores it. Throws
    /// UsageError (no name, a name in use without `resume`, options that differ from the saved ones on resume),
    /// DataError (no labels, a single class, too few images), IoError, CancelledError.
    DescriptorAdaptation(const std::string &project, Options options, Progress *progress = nullptr);
    ~DescriptorAdaptation();

    /// Trains one epoch, scores it on the test images and saves the state. Returns false (doing nothing) when all
    /// epochs are done. CancelledError leaves the last finished epoch saved and in place.
    bool run(Progress *progress = nullptr);
    int finishedEpochs() const;
    int epochs() const { return options_.training.epochs; }

    /// Writes the adapted model and index and the before/after table (result.json). Returns the table: the
    /// original descriptor without PCA, with PCA to the head's size, and the adapted one.
    std::vector<Row> finish(Progress *progress = nullptr);

    const Options &options() const { return options_; }
    const std::vector<EpochRecord> &history() const { return history_; }
    const AdaptationSplit &split() const { return *split_; }
    const std::string &directory() const { return dir_; }
    std::string modelPath() const { return dir_ + "/model.pt"; }
    const std::string &layerPath() const { return layer_; }
    FeaturePooling pooling() const { return pooling_; }
    /// Rows of the before/after table known so far (before: available after construction).
    std::vector<Row> table() const;

    /// Descriptors of every dataset image (NaN rows for images without features): the original (PCA to the
    /// head's size, fitted on the training images) and the adapted (the head as trained so far).
    torch::Tensor originalDescriptors() const;
    torch::Tensor adaptedDescriptors() const;
    const std::vector<int> &labels() const { return labels_; }
    const std::string &dataset() const { return dataset_; }

    /// The options adaptation `name` of `project` was saved with (resume set): what reopens it to score it again.
    /// Throws UsageError (no such adaptation), DataError (damaged options.json).
    static Options savedOptions(const std::string &project, const std::string &name);
    /// Names of the adaptations saved in a project (folders adapt-NAME with saved options), sorted.
    static std::vector<std::string> list(const std::string &project);

private:
    void saveOptions() const;
    void saveHistory() const;
    void loadHistory();
    std::string stateDir(int epoch) const; ///< `dir_`/epoch-N: the trainer's state after epoch N
    int lastStateEpoch() const;            ///< the newest complete state folder's epoch, 0 = none
    RetrievalEvaluator::Result evaluate(const torch::Tensor &descriptors) const;

    std::string project_, dir_, layer_, featureFile_, dataset_, modelPath_;
    std::int64_t scanId_ = -1;
    FeaturePooling pooling_ = FeaturePooling::None;
    Options options_;
    torch::Tensor describeDataset(Progress *progress) const;

    torch::Tensor original_features_; ///< N×D stored raw features of every dataset image (NaN = skipped)
    torch::Tensor features_;          ///< the same through the network as trained so far (= original without
                                      ///< fine-tuning)
    std::shared_ptr<const Model> model_;          ///< the scanned model (fine-tuning only)
    std::shared_ptr<const ImageSource> source_;   ///< the dataset (fine-tuning only)
    std::unique_ptr<BackboneTuner> tuner_;
    std::vector<int> labels_;
    std::unique_ptr<AdaptationSplit> split_;
    DescriptorPipeline original_;
    std::unique_ptr<HeadTrainer> trainer_;
    std::vector<EpochRecord> history_;
    Row raw_, before_;
};

} // namespace convscope
