#include "data/JpegDecoder.h"

#include "common/Error.h"
#include "data/JpegIntegrity.h"

#include <opencv2/core.hpp>

#include <csetjmp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cstdio> // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>

namespace convscope {

namespace {

/// libjpeg's error manager that jumps back instead of calling exit(), formatting the message into the caller's
/// buffer (not into this struct: a local written between setjmp and longjmp would be indeterminate after the jump).
struct ErrorJump {
    jpeg_error_mgr base;
    std::jmp_buf jump;
    char *message; // JMSG_LENGTH_MAX bytes
};

void jumpOut(j_common_ptr cinfo)
{
    auto *err = reinterpret_cast<ErrorJump *>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

void ignoreMessage(j_common_ptr, int) {} // warnings (corrupt data the decoder recovers from): decoded, as OpenCV does

enum class Outcome { Decoded, NotHandled, TooLarge, Failed };

/// The most pixels an image may have: OpenCV's limit (its OPENCV_IO_MAX_IMAGE_PIXELS, default 2^30), which
/// cv::imdecode enforces, so that a few-megabyte file cannot claim 65535×65535 pixels and 12 GB.
std::uint64_t maxPixels()
{
    const char *text = std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS");
    const unsigned long long v = text ? std::strtoull(text, nullptr, 10) : 0;
    return v > 0 ? v : (std::uint64_t(1) << 30);
}

/// The libjpeg part, in a function with nothing to destroy between setjmp and longjmp (the caller owns `out` and
/// `message`). A header libjpeg cannot read is left to OpenCV (NotHandled), which reports it its own way; an error
/// in the data after it fails with libjpeg's message.
Outcome decodeInto(const unsigned char *data, unsigned long size, int reduction, cv::Mat *out, char *message,
                   std::uint64_t *pixels)
{
    jpeg_decompress_struct cinfo;
    ErrorJump err;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = jumpOut;
    err.base.emit_message = ignoreMessage;
    err.message = message;
    volatile bool headerRead = false;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return headerRead ? Outcome::Failed : Outcome::NotHandled;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    headerRead = true;
    const bool grey = cinfo.jpeg_color_space == JCS_GRAYSCALE && cinfo.num_components == 1;
    const bool colour = (cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB) &&
                        cinfo.num_components == 3;
    if ((!grey && !colour) || cinfo.data_precision != 8) {
        jpeg_destroy_decompress(&cinfo);
        return Outcome::NotHandled;
    }
    cinfo.scale_num = 1;
    cinfo.scale_denom = static_cast<unsigned int>(reduction);
    cinfo.out_color_space = grey ? JCS_GRAYSCALE : JCS_EXT_BGR;
    jpeg_calc_output_dimensions(&cinfo);
    *pixels = std::uint64_t(cinfo.output_width) * cinfo.output_height;
    if (*pixels > maxPixels()) {
        jpeg_destroy_decompress(&cinfo);
        return Outcome::TooLarge;
    }
    jpeg_start_decompress(&cinfo);
    try {
        out->create(static_cast<int>(cinfo.output_height), static_cast<int>(cinfo.output_width),
                    grey ? CV_8UC1 : CV_8UC3);
    } catch (...) { // out of memory: libjpeg's memory goes first
        jpeg_destroy_decompress(&cinfo);
        throw;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[4];
        int n = 0;
        for (; n < 4 && cinfo.output_scanline + static_cast<unsigned int>(n) < cinfo.output_height; ++n)
            rows[n] = out->ptr<unsigned char>(static_cast<int>(cinfo.output_scanline) + n);
        jpeg_read_scanlines(&cinfo, rows, static_cast<JDIMENSION>(n));
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return Outcome::Decoded;
}

unsigned readShort(const unsigned char *p, bool little)
{
    return little ? p[0] | (p[1] << 8) : (p[0] << 8) | p[1];
}

unsigned long readLong(const unsigned char *p, bool little)
{
    return little ? p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<unsigned long>(p[3]) << 24)
                  : (static_cast<unsigned long>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

/// The orientation tag (0x0112) of IFD0 in an "Exif\0\0" APP1 payload of `n` bytes; 1 when absent.
int orientationIn(const unsigned char *exif, std::size_t n)
{
    if (n < 14 || std::memcmp(exif, "Exif\0\0", 6) != 0)
        return 1;
    const unsigned char *tiff = exif + 6;
    const std::size_t size = n - 6;
    const bool little = tiff[0] == 'I' && tiff[1] == 'I';
    if (!little && !(tiff[0] == 'M' && tiff[1] == 'M'))
        return 1;
    const unsigned long ifd = readLong(tiff + 4, little);
    if (size < 2 || ifd > size - 2) // (not ifd + 2 > size: that wraps where unsigned long has 32 bits)
        return 1;
    const unsigned entries = readShort(tiff + ifd, little);
    for (unsigned e = 0; e < entries; ++e) {
        const std::size_t at = ifd + 2 + 12 * static_cast<std::size_t>(e);
        if (at + 12 > size)
            return 1;
        if (readShort(tiff + at, little) == 0x0112) {
            const unsigned v = readShort(tiff + at + 8, little);
            return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
        }
    }
    return 1;
}

} // namespace

int JpegDecoder::exifOrientation(const std::vector<unsigned char> &bytes)
{
    for (const JpegIntegrity::Segment &s : JpegIntegrity::headerSegments(bytes))
        if (s.marker == 0xE1) // APP1: Exif (or XMP, which orientationIn passes over)
            if (const int o = orientationIn(bytes.data() + s.payload, s.length); o != 1)
                return o;
    return 1;
}

cv::Mat JpegDecoder::oriented(const cv::Mat &img, int orientation)
{
    cv::Mat out;
    switch (orientation) {
    case 2: cv::flip(img, out, 1); break;                    // mirrored left-right
    case 3: cv::flip(img, out, -1); break;                   // rotated 180°
    case 4: cv::flip(img, out, 0); break;                    // mirrored top-bottom
    case 5: cv::transpose(img, out); break;                  // mirrored along the main diagonal
    case 6: cv::transpose(img, out); cv::flip(out, out, 1); break;  // rotated 90° clockwise to view
    case 7: cv::transpose(img, out); cv::flip(out, out, -1); break; // mirrored along the other diagonal
    case 8: cv::transpose(img, out); cv::flip(out, out, 0); break;  // rotated 90° anticlockwise to view
    default: return img;
    }
    return out;
}

cv::Mat JpegDecoder::decode(const std::vector<unsigned char> &bytes, int reduction, const std::string &name)
{
    if (reduction != 1 && reduction != 2 && reduction != 4 && reduction != 8)
        reduction = 1;
    cv::Mat img;
    char message[JMSG_LENGTH_MAX] = {};
    std::uint64_t pixels = 0;
    cv::Mat decoded;
    try {
        switch (decodeInto(bytes.data(), static_cast<unsigned long>(bytes.size()), reduction, &img, message, &pixels)) {
        case Outcome::NotHandled: return {};
        case Outcome::TooLarge:
            throw DataError("cannot decode image '" + name + "': " + std::to_string(pixels) +
                            " pixels is more than the limit of " + std::to_string(maxPixels()) +
                            " (OPENCV_IO_MAX_IMAGE_PIXELS)");
        case Outcome::Failed: throw DataError("cannot decode image '" + name + "': " + message);
        case Outcome::Decoded: break;
        }
        decoded = oriented(img, exifOrientation(bytes));
    } catch (const cv::Exception &e) { // no memory for the pixels, or for turning them
        throw DataError("cannot decode image '" + name + "': " + e.err);
    }
    return decoded;
}

} // namespace convscope
