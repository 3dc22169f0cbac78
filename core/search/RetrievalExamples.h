#pragma once
// Before/after result grids of an adapted descriptor: for a few test queries (drawn with a seed), the k nearest
// test images by the original descriptor and by the adapted one — the same queries, so the change is visible.
#include "model/InputSpec.h"
#include "tiles/TileSet.h"

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

class ImageSource;

class RetrievalExamples {
public:
    struct Options {
        int queries = 6;        ///< rows of the grid
        int k = 8;              ///< neighbours shown per descriptor
        std::uint64_t seed = 1; ///< which test images are the queries
    };
    struct Example {
        std::int64_t query = -1;
        std::vector<std::int64_t> before, after; ///< dataset indices, nearest first (the query left out)
    };

    /// `before` and `after`: N×d descriptors of every dataset image (NaN rows left out); `testLabels`: −1 for
    /// images that are not test images (neither queries nor results). Squared Euclidean distance.
    static std::vector<Example> find(const torch::Tensor &before, const torch::Tensor &after,
                                     const std::vector<int> &testLabels, const Options &options);

    /// The grid: a row per example — the query, a separator, its k nearest before, a separator, its k nearest
    /// after —
    /// captioned with the class and ✓ (the query's class) or ✗. Images fitted with `input` (the model's
    /// preprocessing, without normalisation). Unreadable images become black tiles captioned "unreadable".
    static TileSet grid(const std::vector<Example> &examples, const ImageSource &source, const InputSpec &input,
                        const std::vector<std::string> &classNames);
};

} // namespace convscope
