#pragma once
// A searchable collection of image descriptors kept in a project folder (`index-NAME/`): which layer and pooling
// they come from, the learned DescriptorPipeline (L2 → PCA/whitening → L2) and a SearchIndex (exact or FAISS).
// Built once from a stored scan's per-image features (running a features-only scan first when the project has none
// for that layer), reopened by name, grown with new images without rebuilding.
//
// Descriptors: `fc` = a fully connected output as it is (Neural Codes); `spoc` = sum-pooled conv map (SPoC; stored
// as the spatial mean, the same after L2 normalisation); `mac` = max-pooled conv map (MAC).
#include "search/DescriptorPipeline.h"
#include "search/FaissIndex.h"
#include "model/Model.h"
#include "common/Progress.h"
#include "scan/FeaturePooling.h"
#include "scan/ProjectStore.h"
#include "search/SearchIndex.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace convscope {

class ImageSource;

class DescriptorIndex {
public:
    struct Options {
        std::string layer;                       ///< layer name (as Model::layer takes)
        std::optional<FeaturePooling> pooling;   ///< fc for vector layers; spoc or mac for maps; unset = fc or spoc
        DescriptorPipeline::Options pipeline;    ///< normalisation, PCA size (default 128), whitening
        SearchIndex::Metric metric = SearchIndex::Metric::L2;
        std::string ann;                         ///< "" = exact search; "hnsw" or "ivfpq" = approximate
        FaissIndex::Options faiss;               ///< settings of the approximate index
        std::string name;                        ///< folder name; empty = "<layer>-<pooling>-<pca>[-<ann>]"
    };

    /// Builds the index from the newest complete scan of `project` that kept the needed feature; if none did, scans
    /// the dataset of the newest complete scan for it first (reporting to `progress`). Saves it in the project.
    /// Throws UsageError (wrong pooling for the layer...), DataError, IoError, CancelledError.
    static DescriptorIndex build(const std::string &project, Options options, Progress *progress = nullptr);
    /// An index of descriptors made by another model — an adapted descriptor's TorchScript model (`modelPath`)
    /// whose layer `layer` outputs them: `descriptors` has a row per dataset image of `dataset` (NaN = left out)
    /// and is kept in the index folder as its features. Uses `options.name`, `ann`, `faiss` and `metric`; the
    /// pipeline only L2-normalises. Throws UsageError (bad name), IoError.
    static DescriptorIndex fromDescriptors(const std::string &project, const Options &options,
                                           const std::string &modelPath, const std::string &layer,
                                           std::int64_t scanId, const std::string &dataset,
                                           const torch::Tensor &descriptors);
    /// Layers whose outputs can describe images (indices into model.layers(), forward order): capturable vectors
    /// and maps, not activations, not the class scores themselves — what the Search tab and the Adapt window offer.
    static std::vector<int> layerChoices(const Model &model);
    /// Opens a saved index; `name` empty = the most recently built. Throws DataError when there is none.
    static DescriptorIndex open(const std::string &project, const std::string &name = {});
    /// Names of the indexes saved in a project, newest first.
    static std::vector<std::string> list(const std::string &project);

    const std::string &name() const { return name_; }
    const std::string &layer() const { return layer_; }
    FeaturePooling pooling() const { return pooling_; }
    std::int64_t scanId() const { return scanId_; }
    const std::string &modelPath() const { return modelPath_; }
    const std::string &dataset() const { return dataset_; }
    const DescriptorPipeline &pipeline() const { return pipeline_; }
    const SearchIndex &index() const { return *index_; }
    std::int64_t size() const { return index_->size(); }

    /// Raw pooled features of model inputs (N×C×H×W, normalised) at this index's layer: N×D.
    torch::Tensor rawFeatures(const Model &model, const torch::Tensor &inputs) const;
    /// The stored raw features of the dataset (N×D, NaN for skipped images), read from the scan.
    torch::Tensor datasetFeatures() const;

    struct Hit {
        std::int64_t image = -1; ///< dataset index
        float distance = 0;
    };
    /// k nearest dataset images for each row of raw features (N×D). `exclude` ≥ 0 drops that image (the query
    /// itself) from every list.
    std::vector<std::vector<Hit>> search(const torch::Tensor &raw, int k, std::int64_t exclude = -1) const;

    /// Channels that make two pooled conv features similar: per channel the product of the L2-normalised raw
    /// features, as a share of their positive sum; largest first. Empty for fc descriptors.
    struct Contribution {
        int channel = 0;
        float share = 0;
    };
    std::vector<Contribution> whySimilar(const torch::Tensor &rawA, const torch::Tensor &rawB, int top) const;

    /// Adds images (raw features N×D with their dataset ids) without rebuilding; saves the index.
    void add(const torch::Tensor &raw, const std::vector<std::int64_t> &ids);
    /// Adds image files that are not in the dataset (they get ids from `firstAddedId()` on, remembered with their
    /// paths in the index); returns the ids. Unreadable files are skipped and listed in `skipped`. Saves the index.
    std::vector<std::int64_t> addFiles(const Model &model, const std::vector<std::string> &paths,
                                       std::vector<std::string> *skipped = nullptr);
    /// Ids from here on name added files, not dataset images.
    static constexpr std::int64_t firstAddedId() { return std::int64_t(1) << 40; }
    /// The path of an added file (empty for dataset ids or unknown ids).
    std::string addedPath(std::int64_t id) const;

private:
    void save() const;
    void fill(const torch::Tensor &raw, const Options &options);

    std::string dir_, name_, layer_, featureFile_, modelPath_, dataset_;
    FeaturePooling pooling_ = FeaturePooling::Average;
    std::int64_t scanId_ = -1;
    DescriptorPipeline pipeline_;
    std::shared_ptr<SearchIndex> index_;
    std::vector<std::string> added_; ///< paths of added files: id = firstAddedId() + position
};

} // namespace convscope
