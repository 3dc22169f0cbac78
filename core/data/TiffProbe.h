#pragma once
// Reads the first image directory of a TIFF file to refuse, with a reason, what OpenCV 4.6 cannot decode: colour
// images with 64-bit samples (its TIFF reader hands them to a colour conversion that takes only 8/16/32-bit data,
// fails, prints the failure on the console and returns nothing). Classic TIFF in either byte order; BigTIFF and
// damaged headers are left to OpenCV (which reports them as undecodable). Bounds-checked: bytes from anywhere.
#include <string>
#include <vector>

namespace convscope {

class TiffProbe {
public:
    /// True when the bytes start like a TIFF file (classic or BigTIFF, either byte order).
    static bool isTiff(const std::vector<unsigned char> &bytes);
    /// Why OpenCV cannot decode this TIFF ("a TIFF with 64-bit floating-point colour samples, …"), or empty.
    static std::string problem(const std::vector<unsigned char> &bytes);
};

} // namespace convscope
