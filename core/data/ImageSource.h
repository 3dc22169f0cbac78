#pragma once
// A dataset: an indexed collection of images with optional labels. Implementations: FolderSource (class
// subfolders or a flat folder), IdxSource (MNIST/Fashion-MNIST idx files, gzip or not), FileListSource (files named
// one by one). image() may be called from several threads at once.
#include <opencv2/core.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace convscope {

class ImageSource {
public:
    virtual ~ImageSource() = default;
    /// Number of images.
    virtual std::int64_t size() const = 0;
    /// A name the user recognises: a path relative to the dataset root, or "file.gz#123".
    virtual std::string name(std::int64_t index) const = 0;
    /// Class index, or -1 when unlabelled.
    virtual int label(std::int64_t index) const = 0;
    /// Class names by label index (folder names); empty when labels are bare numbers (idx files).
    virtual std::vector<std::string> classNames() const { return {}; }
    /// Decoded image (see ImageDecoder for the format). Throws IoError/DataError naming the image.
    virtual cv::Mat image(std::int64_t index) const = 0;
    /// The same, where the source can decode smaller for less (JPEG files: ImageDecoder::Reduction); else image().
    virtual cv::Mat reducedImage(std::int64_t index, const std::function<int(int, int)> &reduction) const
    {
        (void)reduction;
        return image(index);
    }
    /// One line for the user: "10000 images in 10 classes from /path".
    virtual std::string description() const = 0;

    /// Opens `path`: an idx images file, a folder (idx files inside, class subfolders, or flat), or one image.
    /// Throws IoError (missing) or DataError (no images found, unreadable idx).
    static std::unique_ptr<ImageSource> open(const std::string &path);
};

} // namespace convscope
