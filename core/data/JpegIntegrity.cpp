#include "data/JpegIntegrity.h"

#include <algorithm>
#include <cstddef>

namespace convscope {

namespace {

constexpr unsigned char kMarker = 0xFF;
constexpr unsigned char kEndOfImage = 0xD9, kStartOfScan = 0xDA;

/// Markers without a length field: SOI, RST0–7, TEM.
bool standalone(unsigned char marker)
{
    return marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01;
}

/// Position of the first marker after the entropy-coded data that starts at `i` (FF 00 is a stuffed data byte,
/// FF D0–D7 restart markers and FF FF fill belong to the data); `n` when the data runs to the end.
std::size_t endOfScan(const std::vector<unsigned char> &b, std::size_t i)
{
    const std::size_t n = b.size();
    for (; i + 1 < n; ++i) {
        if (b[i] != kMarker)
            continue;
        const unsigned char next = b[i + 1];
        if (next != 0x00 && next != kMarker && !(next >= 0xD0 && next <= 0xD7))
            return i;
    }
    return n;
}

} // namespace

bool JpegIntegrity::isJpeg(const std::vector<unsigned char> &bytes)
{
    return bytes.size() >= 3 && bytes[0] == kMarker && bytes[1] == 0xD8 && bytes[2] == kMarker;
}

std::string JpegIntegrity::problem(const std::vector<unsigned char> &bytes)
{
    static const std::string truncated =
        "truncated: the file ends before the image does (no end-of-image marker; the rest would decode as grey)";
    const std::size_t n = bytes.size();
    std::size_t i = 2;
    while (i + 1 < n) {
        if (bytes[i] != kMarker)
            return {}; // not the structure we know: the decoder decides
        const unsigned char marker = bytes[i + 1];
        if (marker == kMarker) { // fill byte before a marker
            ++i;
            continue;
        }
        if (marker == kEndOfImage)
            return {};
        if (standalone(marker)) {
            i += 2;
            continue;
        }
        if (i + 3 >= n)
            return truncated;
        const std::size_t length = (static_cast<std::size_t>(bytes[i + 2]) << 8) | bytes[i + 3];
        if (length < 2)
            return {};
        i += 2 + length;
        if (i > n)
            return truncated;
        if (marker == kStartOfScan)
            i = endOfScan(bytes, i);
    }
    return truncated;
}

std::vector<JpegIntegrity::Segment> JpegIntegrity::headerSegments(const std::vector<unsigned char> &bytes)
{
    std::vector<Segment> segments;
    const std::size_t n = bytes.size();
    std::size_t i = 2;
    while (i + 3 < n && bytes[i] == kMarker) {
        const unsigned char marker = bytes[i + 1];
        if (marker == kMarker) {
            ++i;
            continue;
        }
        if (standalone(marker)) {
            i += 2;
            continue;
        }
        if (marker == kStartOfScan || marker == kEndOfImage)
            break;
        const std::size_t length = (static_cast<std::size_t>(bytes[i + 2]) << 8) | bytes[i + 3];
        if (length < 2)
            break;
        segments.push_back({marker, i + 4, std::min(length - 2, n - (i + 4))});
        i += 2 + length;
    }
    return segments;
}

bool JpegIntegrity::frameSize(const std::vector<unsigned char> &bytes, int &width, int &height)
{
    for (const Segment &s : headerSegments(bytes)) {
        // SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
        if (s.marker >= 0xC0 && s.marker <= 0xCF && s.marker != 0xC4 && s.marker != 0xC8 && s.marker != 0xCC) {
            if (s.length < 5)
                return false;
            const unsigned char *p = bytes.data() + s.payload;
            height = (p[1] << 8) | p[2];
            width = (p[3] << 8) | p[4];
            return width > 0 && height > 0;
        }
    }
    return false;
}

} // namespace convscope
