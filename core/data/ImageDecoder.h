#pragma once
// Decodes image files with OpenCV into a form the preprocessor takes.
#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace convscope {

class ImageDecoder {
public:
    /// Decodes a file. Result: 1 channel (gray) or 3 channels (BGR), depth CV_8U, CV_16U or CV_32F.
    /// EXIF orientation is applied; an alpha channel is dropped (as PIL's convert("RGB") does); CMYK JPEGs come
    /// out as BGR. Throws IoError (missing or unreadable) or DataError (empty, truncated — a JPEG cut short is refused
    /// although libjpeg would fill it with grey —, not an image), with the path in the message.
    static cv::Mat decodeFile(const std::string &path);
    /// Same for bytes already in memory; `name` is used in messages.
    static cv::Mat decode(const std::vector<unsigned char> &bytes, const std::string &name);
    /// File name extensions (lower case, with dot) treated as images when scanning folders.
    static bool isImageFileName(const std::string &path);
};

} // namespace convscope
