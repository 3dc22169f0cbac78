#include "data/TiffProbe.h"

#include <cstdint>
#include <optional>

namespace convscope {

namespace {

/// Little- or big-endian reads that refuse to leave the buffer.
class TiffReader {
public:
    explicit TiffReader(const std::vector<unsigned char> &bytes) : bytes_(bytes), little_(bytes[0] == 'I') {}

    std::optional<std::uint32_t> read(std::size_t at, int width) const
    {
        if (at > bytes_.size() || bytes_.size() - at < static_cast<std::size_t>(width))
            return std::nullopt;
        std::uint32_t v = 0;
        for (int i = 0; i < width; ++i) {
            const std::uint32_t b = bytes_[at + static_cast<std::size_t>(little_ ? width - 1 - i : i)];
            v = (v << 8) | b;
        }
        return v;
    }

private:
    const std::vector<unsigned char> &bytes_;
    bool little_;
};

struct FirstImage {
    std::uint32_t bitsPerSample = 1;
    std::uint32_t samplesPerPixel = 1;
    std::uint32_t sampleFormat = 1; ///< 1 unsigned, 2 signed, 3 IEEE float
};

/// The value of a SHORT or LONG entry (the first one when there are several), inline or at its offset.
std::optional<std::uint32_t> entryValue(const TiffReader &in, std::size_t entry)
{
    const auto type = in.read(entry + 2, 2), count = in.read(entry + 4, 4);
    if (!type || !count || *count == 0 || (*type != 3 && *type != 4))
        return std::nullopt;
    const int width = *type == 3 ? 2 : 4;
    if (static_cast<std::uint64_t>(*count) * static_cast<std::uint64_t>(width) <= 4)
        return in.read(entry + 8, width);
    const auto offset = in.read(entry + 8, 4);
    return offset ? in.read(*offset, width) : std::nullopt;
}

std::optional<FirstImage> firstImage(const std::vector<unsigned char> &bytes)
{
    const TiffReader in(bytes);
    const auto ifd = in.read(4, 4);
    const auto entries = ifd ? in.read(*ifd, 2) : std::nullopt;
    if (!entries)
        return std::nullopt;
    FirstImage image;
    for (std::uint32_t i = 0; i < *entries; ++i) {
        const std::size_t entry = std::size_t{*ifd} + 2 + std::size_t{i} * 12;
        const auto tag = in.read(entry, 2);
        if (!tag)
            return std::nullopt;
        const auto value = entryValue(in, entry);
        if (!value)
            continue;
        if (*tag == 258)
            image.bitsPerSample = *value;
        else if (*tag == 277)
            image.samplesPerPixel = *value;
        else if (*tag == 339)
            image.sampleFormat = *value;
    }
    return image;
}

} // namespace

bool TiffProbe::isTiff(const std::vector<unsigned char> &bytes)
{
    if (bytes.size() < 8)
        return false;
    const bool little = bytes[0] == 'I' && bytes[1] == 'I' && (bytes[2] == 42 || bytes[2] == 43) && bytes[3] == 0;
    const bool big = bytes[0] == 'M' && bytes[1] == 'M' && bytes[2] == 0 && (bytes[3] == 42 || bytes[3] == 43);
    return little || big;
}

std::string TiffProbe::problem(const std::vector<unsigned char> &bytes)
{
    const bool bigTiff = isTiff(bytes) && (bytes[2] == 43 || bytes[3] == 43);
    if (!isTiff(bytes) || bigTiff)
        return {};
    const auto image = firstImage(bytes);
    if (!image || image->samplesPerPixel < 3 || image->bitsPerSample != 64)
        return {};
    const char *kind = image->sampleFormat == 3 ? "floating-point" : "integer";
    return std::string("a TIFF with 64-bit ") + kind +
           " colour samples, which OpenCV cannot decode (save it with 8- or 16-bit, or 32-bit float, samples)";
}

} // namespace convscope
