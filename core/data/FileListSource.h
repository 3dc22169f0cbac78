#pragma once
#include "data/ImageSource.h"

namespace convscope {

/// Image files named one by one (command-line arguments, a dropped file). Unlabelled.
class FileListSource : public ImageSource {
public:
    explicit FileListSource(std::vector<std::string> files) : files_(std::move(files)) {}

    std::int64_t size() const override { return static_cast<std::int64_t>(files_.size()); }
    std::string name(std::int64_t index) const override { return files_.at(static_cast<size_t>(index)); }
    int label(std::int64_t) const override { return -1; }
    cv::Mat image(std::int64_t index) const override;
    cv::Mat reducedImage(std::int64_t index, const std::function<int(int, int)> &reduction) const override;
    std::string description() const override;

private:
    std::vector<std::string> files_;
};

} // namespace convscope
