#pragma once
// Decodes JPEG files with libjpeg-turbo directly. OpenCV's imdecode goes through the same library with the same
// settings (integer DCT, fancy upsampling, BGR output) but spends twice as long or more around it on a small photo
// (0.75–1.0 ms against 0.36 for a 384×256 JPEG here: the header read twice, EXIF parsed through a generic reader,
// rows copied one by one), which is a sixth of a small model's forward time per image in a scan. Pixels are those of
// cv::imdecode(IMREAD_ANYCOLOR | reduced) bit for bit, EXIF orientation applied the same way, and the same limit of
// 2^30 pixels (ImageDecoderTest, "JPEGs decoded through libjpeg directly ...").
//
// Handles 8-bit greyscale and YCbCr/RGB JPEGs (baseline, extended, progressive), which is what cameras and the
// web produce; anything else (CMYK/YCCK, or a header libjpeg cannot read) is left to the caller (an empty Mat),
// which falls back to OpenCV. (Debian's libjpeg-turbo 2.1 refuses 12-bit and lossless JPEGs in the header, so
// OpenCV, with the same library, reports them.)
#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace convscope {

class JpegDecoder {
public:
    /// The image at 1/`reduction` of its size (1, 2, 4 or 8: libjpeg's DCT scaling), 8-bit, grey (1 channel) or BGR
    /// (3 channels), EXIF orientation applied; an empty Mat for a JPEG this decoder leaves to OpenCV. Throws
    /// DataError (naming `name`) for data libjpeg cannot decode after the header, for more pixels than the limit, or
    /// when there is no memory for them.
    static cv::Mat decode(const std::vector<unsigned char> &bytes, int reduction, const std::string &name);

    /// The EXIF orientation (1–8) of a JPEG's APP1 segment; 1 when there is none or it cannot be read.
    static int exifOrientation(const std::vector<unsigned char> &bytes);
    /// `img` turned as EXIF orientation `orientation` says (2–8: mirrored and/or rotated; 1 or others: as is).
    static cv::Mat oriented(const cv::Mat &img, int orientation);
};

} // namespace convscope
