#pragma once
// What a smaller descriptor costs in retrieval quality: the same descriptors compressed by PCA to fewer float32
// dimensions, and by product quantisation (FAISS ProductQuantizer, 8 bits per sub-vector: M bytes per image),
// each learned on the training images and scored on the test images (mAP, precision@k). PQ is scored the way it
// searches: uncompressed queries against the decoded database (asymmetric distances).
#include "search/RetrievalEvaluator.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace convscope {

class Progress;

class DescriptorCompression {
public:
    struct Options {
        std::vector<int> pcaDims{128, 64, 32, 16, 8, 4}; ///< float32 sizes (4 bytes per dimension); larger than
                                                        ///< the descriptor = left out
        std::vector<int> pqBytes{8, 16, 32, 64};         ///< PQ code sizes; those that do not divide the descriptor
                                                        ///< size, or exceed it, are left out
        RetrievalEvaluator::Options evaluation;
    };
    struct Row {
        std::string method;    ///< "float32", "PCA", "PQ"
        std::int64_t dims = 0; ///< dimensions searched (PQ: of the decoded vectors)
        std::int64_t bytes = 0; ///< bytes per image in the index
        RetrievalEvaluator::Result result;
    };

    /// `descriptors` N×d for every dataset image (NaN rows left out); `trainRows` learn the PCA and the quantiser;
    /// `testLabels` (−1 = not a test image) score them. Rows are ordered by method, then size (largest first).
    /// Throws DataError (too few images), CancelledError.
    static std::vector<Row> table(const torch::Tensor &descriptors, const std::vector<std::int64_t> &trainRows,
                                  const std::vector<int> &testLabels, const Options &options,
                                  Progress *progress = nullptr);
};

} // namespace convscope
