#pragma once
// A map of a dataset — the pipeline the `map` command and the Map tab share: a layer's stored per-image features
// (StoredFeatures; a features scan runs first when the project has none) → rows of skipped images dropped →
// L2 / PCA (DescriptorPipeline) → t-SNE or UMAP (Embedder) → k-means clusters of the finished map. Options holds
// every default once; the CLI help and the GUI's spin boxes read them from DatasetMap::Options{}.
//
// Chunked: the constructor reads and reduces the features (seconds at most); run(steps) first builds the neighbour
// graph and start positions (the slow part of init), then advances the optimisation, and clusters the map once it
// is done:
//   DatasetMap map(project, options);
//   while (map.run(10)) draw(map.embedding());   // progress: map.step() of map.steps()
#include "common/Progress.h"
#include "map/Embedder.h"
#include "scan/StoredFeatures.h"
#include "search/DescriptorPipeline.h"

#include <torch/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace convscope {

class DatasetMap {
public:
    struct Options {
        std::string layer;                     ///< the layer whose features are mapped (as Model::layer takes)
        std::optional<FeaturePooling> pooling; ///< unset = fc for a fully connected layer, spoc for maps
        std::int64_t limit = -1;               ///< map only the first `limit` dataset images (-1 = all)
        int pca = 50;          ///< principal components kept before the embedding (0 = none); fewer: faster, smoother
        bool normalise = true; ///< L2-normalise each image's features first (distances then follow the angle)
        Embedder::Options embedding; ///< t-SNE or UMAP and their settings (defaults in Tsne.h and Umap.h)
        int clusters = 0;      ///< k of k-means on the finished map (colour by cluster); 0 = no clustering
    };

    /// Reads (or computes, reporting to `progress`; CancelledError when it says so) the features and reduces them.
    /// Throws UsageError (no layer, unknown layer, pooling that does not fit it, too few images), DataError (no
    /// complete scan, no image with features), IoError.
    DatasetMap(const std::string &project, Options options, Progress *progress = nullptr);
    /// The same pipeline over a feature matrix given directly (N×D, rows = points; `convscope embed`): images() are
    /// the row numbers, `layer`, `pooling` and `limit` are ignored. Throws UsageError for NaN rows or too few rows.
    DatasetMap(const torch::Tensor &features, Options options);
    ~DatasetMap();

    /// Advances by up to `steps` optimisation steps (the first call builds the neighbour graph instead); true while
    /// work remains.
    bool run(int steps);
    bool done() const;
    int step() const;
    int steps() const;

    /// Where the features came from (empty for a matrix given directly).
    const StoredFeatures &source() const { return source_; }
    /// Dataset indices of the mapped images (rows of every matrix below), ascending.
    const std::vector<std::int64_t> &images() const { return images_; }
    /// N×d features after L2 and PCA: what the embedding sees.
    const torch::Tensor &reduced() const { return reduced_; }
    const DescriptorPipeline &pipeline() const { return pipeline_; }
    /// N×2 (or N×3) positions so far (float32); undefined before the first run().
    torch::Tensor embedding() const;
    /// N cluster ids (int64, largest cluster 0) once done() with Options::clusters > 0; undefined otherwise.
    const torch::Tensor &clusters() const { return clusters_; }
    /// "t-SNE" or "UMAP".
    std::string methodTitle() const;

private:
    /// Fits the pipeline on `raw` (rows = images()) and keeps its output.
    void reduce(const torch::Tensor &raw);

    Options options_;
    StoredFeatures source_;
    std::vector<std::int64_t> images_;
    DescriptorPipeline pipeline_;
    torch::Tensor reduced_, clusters_;
    std::unique_ptr<Embedder> embedder_;
};

} // namespace convscope
