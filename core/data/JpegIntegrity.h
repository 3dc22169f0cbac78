#pragma once
// Tells a complete JPEG file from a truncated one. libjpeg (through OpenCV) decodes a JPEG cut short without an
// error: the missing part comes out grey and the image would be ranked like any other. A complete file runs from
// its start-of-image marker through its segments and entropy-coded scans to an end-of-image marker; a file that
// ends before that marker is truncated. Files whose structure is merely unusual (bytes where a marker should be)
// are left to the decoder.
#include <cstddef>
#include <string>
#include <vector>

namespace convscope {

class JpegIntegrity {
public:
    /// True when `bytes` start like a JPEG (FF D8 FF).
    static bool isJpeg(const std::vector<unsigned char> &bytes);
    /// Empty for a complete JPEG; else why it is not ("truncated: …"), written for the user.
    static std::string problem(const std::vector<unsigned char> &bytes);
    /// A segment of the header: its marker (the byte after FF), where its payload starts (after the length field)
    /// and how many payload bytes the file holds (its length field's, or fewer when the file ends first).
    struct Segment {
        unsigned char marker;
        std::size_t payload;
        std::size_t length;
    };
    /// The header's segments in order, up to the first scan (standalone markers and fill bytes skipped).
    static std::vector<Segment> headerSegments(const std::vector<unsigned char> &bytes);
    /// The frame's width and height from its start-of-frame segment; false when there is none before the first
    /// scan (or the header is cut short).
    static bool frameSize(const std::vector<unsigned char> &bytes, int &width, int &height);
};

} // namespace convscope
