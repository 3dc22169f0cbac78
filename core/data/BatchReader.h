#pragma once
// Decodes and preprocesses a range of a dataset into one batch, skipping (and reporting) images that fail.
#include "data/ImageSource.h"
#include "data/Preprocessor.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace convscope {

/// An image that could not be used, and why.
struct SkippedImage {
    std::int64_t index = -1;
    std::string name;
    std::string reason;
};

struct Batch {
    torch::Tensor input;                 ///< N×C×H×W (N = indices.size()); undefined when every image failed
    std::vector<std::int64_t> indices;   ///< dataset indices of the rows of `input`
    std::vector<SkippedImage> skipped;
};

class BatchReader {
public:
    BatchReader(const ImageSource &source, Preprocessor preprocessor)
        : source_(source), pre_(std::move(preprocessor)) {}

    /// Images [first, first+count) of the source. Decoding runs on `threads` threads (0 = all cores).
    /// Never throws for a bad image: it lands in Batch::skipped.
    Batch read(std::int64_t first, std::int64_t count, int threads = 0) const;

    /// Decodes, resizes and normalises one image into `row` (C×H×W float32, contiguous). Throws DataError/IoError
    /// for an image that cannot be used. Safe to call from several threads at once.
    void decodeInto(std::int64_t index, const torch::Tensor &row) const;

    const ImageSource &source() const { return source_; }
    const Preprocessor &preprocessor() const { return pre_; }

private:
    const ImageSource &source_;
    Preprocessor pre_;
};

} // namespace convscope
