#pragma once
#include "data/ImageSource.h"

namespace convscope {

/// Image files under a folder. When the folder has subfolders holding images, each top-level subfolder is a class
/// (labels by sorted folder name; images directly in the root are unlabelled); otherwise the folder is flat and
/// unlabelled. Files are found recursively by extension and sorted by path, so indices are stable.
class FolderSource : public ImageSource {
public:
    explicit FolderSource(const std::string &root);

    std::int64_t size() const override { return static_cast<std::int64_t>(files_.size()); }
    std::string name(std::int64_t index) const override;
    int label(std::int64_t index) const override { return labels_.at(static_cast<size_t>(index)); }
    std::vector<std::string> classNames() const override { return classes_; }
    cv::Mat image(std::int64_t index) const override;
    cv::Mat reducedImage(std::int64_t index, const std::function<int(int, int)> &reduction) const override;
    std::string description() const override;

private:
    std::string root_;
    std::vector<std::string> files_; ///< relative to root_
    std::vector<int> labels_;
    std::vector<std::string> classes_;
};

} // namespace convscope
