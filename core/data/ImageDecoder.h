#pragma once
// Decodes image files with OpenCV into a form the preprocessor takes.
#include <opencv2/core.hpp>

#include <functional>
#include <string>
#include <vector>

namespace convscope {

class ImageDecoder {
public:
    /// Decodes a file. Result: 1 channel (gray) or 3 channels (BGR), depth CV_8U, CV_16U or CV_32F.
    /// EXIF orientation is applied; an alpha channel is dropped (as PIL's convert("RGB") does); CMYK JPEGs come
    /// out as BGR. A 16-bit image whose values all fit in 8 bits (0..255) is 8-bit data saved in a 16-bit file and
    /// comes out as CV_8U (PIL and torchvision read it so; scaled as 16-bit it would be near-black); other 16-bit
    /// images keep their full range. Throws IoError (missing or unreadable) or DataError (empty; truncated — a JPEG
    /// cut short is refused although libjpeg would fill it with grey —; a format OpenCV cannot decode, such as a
    /// TIFF with 64-bit colour samples, refused before OpenCV prints errors on the console; not an image), with the
    /// path and the reason in the message. The dataset browser and the scan both decode here, so they agree on which
    /// images are usable and why the others are not.
    static cv::Mat decodeFile(const std::string &path);
    /// Same for bytes already in memory; `name` is used in messages.
    static cv::Mat decode(const std::vector<unsigned char> &bytes, const std::string &name);

    /// How much smaller a JPEG may be decoded, given its full width and height (as stored, before EXIF
    /// orientation): 1, 2, 4 or 8 (libjpeg's DCT scaling, which skips most of the inverse transform).
    using Reduction = std::function<int(int width, int height)>;
    /// decodeFile/decode, with JPEGs decoded at 1/reduction(width, height) of their size; other formats whole.
    static cv::Mat decodeFile(const std::string &path, const Reduction &reduction);
    static cv::Mat decode(const std::vector<unsigned char> &bytes, const std::string &name,
                          const Reduction &reduction);
    /// File name extensions (lower case, with dot) treated as images when scanning folders.
    static bool isImageFileName(const std::string &path);
};

} // namespace convscope
