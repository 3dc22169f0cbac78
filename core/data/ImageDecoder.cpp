#include "data/ImageDecoder.h"

#include "common/Error.h"
#include "data/JpegDecoder.h"
#include "data/JpegIntegrity.h"
#include "data/TiffProbe.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace convscope {

bool ImageDecoder::isImageFileName(const std::string &path)
{
    static const char *exts[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp",
                                 ".pgm", ".ppm",  ".pbm", ".pnm", ".jp2", ".exr",  ".hdr"};
    auto dot = path.rfind('.');
    if (dot == std::string::npos)
        return false;
    std::string ext = path.substr(dot);
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    return std::find_if(std::begin(exts), std::end(exts), [&](const char *e) { return ext == e; }) !=
           std::end(exts);
}

cv::Mat ImageDecoder::decodeFile(const std::string &path)
{
    return decodeFile(path, Reduction());
}

cv::Mat ImageDecoder::decode(const std::vector<unsigned char> &bytes, const std::string &name)
{
    return decode(bytes, name, Reduction());
}

cv::Mat ImageDecoder::decodeFile(const std::string &path, const Reduction &reduction)
{
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in)
        throw IoError("cannot open image '" + path + "': " + std::strerror(errno));
    const std::streamsize size = in.tellg();
    if (size <= 0)
        throw DataError("image '" + path + "' is empty (0 bytes)");
    std::vector<unsigned char> bytes(static_cast<size_t>(size));
    in.seekg(0);
    if (!in.read(reinterpret_cast<char *>(bytes.data()), size))
        throw IoError("cannot read image '" + path + "'");
    return decode(bytes, path, reduction);
}

cv::Mat ImageDecoder::decode(const std::vector<unsigned char> &bytes, const std::string &name,
                             const Reduction &reduction)
{
    if (bytes.empty())
        throw DataError("image '" + name + "' is empty (0 bytes)");
    int flags = cv::IMREAD_ANYCOLOR | cv::IMREAD_ANYDEPTH;
    if (JpegIntegrity::isJpeg(bytes)) {
        if (const std::string why = JpegIntegrity::problem(bytes); !why.empty())
            throw DataError("image '" + name + "' is " + why);
        int width = 0, height = 0, factor = 1;
        if (reduction && JpegIntegrity::frameSize(bytes, width, height))
            factor = reduction(width, height);
        // Straight through libjpeg-turbo: the pixels OpenCV would give, in a third of the time on small photos.
        if (cv::Mat img = JpegDecoder::decode(bytes, factor, name); !img.empty())
            return img;
        // Left to OpenCV (CMYK, 12-bit...), which passes the denominator of these flags to libjpeg (scale_num 1);
        // ANYCOLOR keeps grey grey.
        switch (factor) {
        case 2: flags |= cv::IMREAD_REDUCED_GRAYSCALE_2; break;
        case 4: flags |= cv::IMREAD_REDUCED_GRAYSCALE_4; break;
        case 8: flags |= cv::IMREAD_REDUCED_GRAYSCALE_8; break;
        default: break;
        }
    }
    if (TiffProbe::isTiff(bytes))
        if (const std::string why = TiffProbe::problem(bytes); !why.empty())
            throw DataError("image '" + name + "' is " + why);
    cv::Mat img;
    try {
        // ANYCOLOR|ANYDEPTH: keeps gray as 1 channel and 16-bit as 16-bit, applies EXIF orientation, drops alpha.
        img = cv::imdecode(bytes, flags);
    } catch (const cv::Exception &e) {
        throw DataError("cannot decode image '" + name + "': " + e.err);
    }
    if (img.empty())
        throw DataError("cannot decode image '" + name + "': not an image, or a corrupt or truncated file");
    if (img.channels() == 4)
        cv::cvtColor(img, img, cv::COLOR_BGRA2BGR);
    else if (img.channels() == 2)
        cv::extractChannel(img, img, 0);
    if (img.depth() != CV_8U && img.depth() != CV_16U && img.depth() != CV_32F)
        img.convertTo(img, CV_32F, img.depth() == CV_64F ? 1.0 : 1.0 / 255.0);
    if (img.depth() == CV_16U) {
        double highest = 0;
        cv::minMaxLoc(img.reshape(1), nullptr, &highest);
        if (highest <= 255) // 8-bit data saved in a 16-bit file: read as 8-bit, as PIL does, not as near-black
            img.convertTo(img, CV_8U);
    }
    return img;
}

} // namespace convscope
