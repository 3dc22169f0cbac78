#pragma once
// "Which layer describes best": retrieval quality of descriptors on a labelled dataset, with classes as relevance
// (an image is relevant to a query when it has the query's label). Leave-one-out: each query is searched among all
// other images with exact search, its full ranking scored by average precision (AP: mean over the relevant images
// of the precision at their rank) and precision@10. mAP is the mean AP over the queries.
//
// Usage: RetrievalEvaluator e(labels, options); auto row = e.evaluate(descriptors); — one call per layer ×
// descriptor × PCA size; run(chunk) style is not needed: one evaluation of 1,000 queries over 10,000 images
// takes well under a second.
#include "search/SearchIndex.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace convscope {

class RetrievalEvaluator {
public:
    struct Options {
        int queries = 1000;          ///< queries drawn from the labelled images (all when fewer); more = steadier
        std::uint64_t seed = 1;      ///< which queries are drawn
        int precisionAt = 10;        ///< the k of precision@k
        SearchIndex::Metric metric = SearchIndex::Metric::L2;
    };
    struct Result {
        double map = 0;            ///< mean average precision
        double precisionAtK = 0;   ///< mean precision@k
        std::int64_t queries = 0;  ///< queries used
        std::int64_t database = 0; ///< images searched (labelled, with descriptors)
    };

    /// `labels`: per dataset image (−1 = unlabelled, left out).
    RetrievalEvaluator(std::vector<int> labels, Options options);

    /// `descriptors`: N×d, a row per dataset image (NaN rows = skipped images, left out). Throws DataError when
    /// fewer than 2 labelled images have descriptors. `queries` (optional, N×d like `descriptors`): what each
    /// query searches with instead of its own database row — the uncompressed descriptor against a compressed
    /// database (asymmetric distances, as product quantisation searches).
    Result evaluate(const torch::Tensor &descriptors, const torch::Tensor &queries = {}) const;

    /// "Which layer describes best" over a project: every feature the newest complete scans of its model and
    /// dataset kept (fc as is; maps as spoc and/or mac), each at every PCA size, scored with `options`.
    struct Comparison {
        std::vector<std::string> layers;      ///< layer paths to compare (empty = all with features)
        std::vector<std::string> descriptors{"spoc", "mac"}; ///< for map layers
        std::vector<int> pcaSizes{0, 32, 128}; ///< 0 = no PCA
        bool whiten = false;
    };
    struct Row {
        std::string layer, descriptor;
        int pca = 0;
        std::int64_t dims = 0;
        Result result;
    };
    /// Throws DataError (no complete scan, no labels, no features) or UsageError (a layer without features).
    /// Reports one step per row to `progress` and stops with CancelledError when asked.
    static std::vector<Row> compare(const std::string &project, const Comparison &comparison, Options options,
                                    class Progress *progress = nullptr);

private:
    std::vector<int> labels_;
    Options options_;
};

} // namespace convscope
