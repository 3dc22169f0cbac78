#pragma once
// Reading and writing NumPy .npy files (format version 1.0/2.0, little-endian, C order). Used for exported data
// and for test fixtures written by Python.
#include <torch/types.h>

#include <string>

namespace convscope {

class NpyFile {
public:
    /// Writes `tensor` (made contiguous; float32/float64/int64/int32/uint8/bool) to `path`.
    /// Throws IoError when the file cannot be written, UsageError for an unsupported dtype.
    static void write(const std::string &path, const torch::Tensor &tensor);
    /// The file header (magic, version 1.0, dict padded to 64 bytes) for a C-order array; data follows it.
    static std::string header(torch::ScalarType type, at::IntArrayRef shape);
    /// Reads a .npy file into a tensor of the same dtype and shape. Throws IoError or DataError.
    static torch::Tensor read(const std::string &path);
};

} // namespace convscope
