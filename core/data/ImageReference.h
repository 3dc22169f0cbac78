#pragma once
// Resolves what a user names as one image: a file ("cat.jpg") or an item of a dataset ("DATASET#INDEX", e.g.
// "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz#42" or "photos/#3").
#include <opencv2/core.hpp>

#include <string>

namespace convscope {

struct ImageReference {
    std::string name;  ///< what to show the user
    int label = -1;    ///< dataset label when known
    cv::Mat image;     ///< decoded (ImageDecoder format)

    /// Throws IoError/DataError (with the reference in the message) or UsageError for a bad index.
    static ImageReference load(const std::string &reference);
};

} // namespace convscope
