#pragma once
#include "data/ImageSource.h"

namespace convscope {

/// Images from IDX files (the MNIST / Fashion-MNIST format: u8, N×H×W), gzip-compressed or not, held in memory.
/// Labels come from the matching "labels-idx1" file next to each images file when present.
class IdxSource : public ImageSource {
public:
    /// Reads one or more "*-images-idx3-ubyte[.gz]" files, concatenated in the given order.
    explicit IdxSource(const std::vector<std::string> &imageFiles);

    std::int64_t size() const override { return count_; }
    std::string name(std::int64_t index) const override;
    int label(std::int64_t index) const override;
    cv::Mat image(std::int64_t index) const override;
    std::string description() const override;

    /// Reads a whole idx file (gzip or plain) into memory. Throws IoError/DataError.
    static std::vector<unsigned char> readFile(const std::string &path);

private:
    struct Part {
        std::string file;
        std::int64_t first = 0, count = 0;
    };
    std::vector<Part> parts_;
    std::vector<unsigned char> pixels_;
    std::vector<int> labels_;
    std::int64_t count_ = 0;
    int rows_ = 0, cols_ = 0;
};

} // namespace convscope
