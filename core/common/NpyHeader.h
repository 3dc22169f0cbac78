#pragma once
// The header of a NumPy .npy file, parsed from bytes in memory (no LibTorch: the fuzz target and NpyFile::read use
// the same code). Layout: "\x93NUMPY", major and minor version, the dictionary's length (2 bytes little-endian in
// version 1, 4 bytes in versions 2 and 3), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ended by '\n'. The data (C order) follows the header.
//
// Usage: size_t n = NpyHeader::length(first12, 12, path); ...read n bytes...; NpyHeader h = NpyHeader::parse(bytes,
// n, path); then h.dataBytes() bytes of data at h.dataOffset.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

struct NpyHeader {
    std::string descr;                ///< dtype as numpy writes it: "<f4", "<f8", "<i8", "<i4", "|u1", "|b1"
    std::vector<std::int64_t> shape;  ///< dimensions, outermost first; empty for a scalar
    std::size_t itemSize = 0;         ///< bytes per element (from descr)
    std::size_t dataOffset = 0;       ///< bytes before the data: the whole header

    /// The dtypes Convscope reads ("<f4", "<f8", "<i8", "<i4", "|u1", "|b1"), with their item sizes.
    static std::size_t itemSizeOf(const std::string &descr);
    /// The total header length (preamble + dictionary) from the file's first bytes (`size` ≥ 12, or the whole file
    /// when shorter). Throws DataError naming `file` when it is not a .npy file or the length is implausible (> 1 MiB).
    static std::size_t length(const unsigned char *bytes, std::size_t size, const std::string &file);
    /// Parses the header at the start of `bytes` (`size` ≥ length()). Throws DataError naming `file` for a
    /// truncated header, a malformed dictionary, an unsupported dtype, Fortran order or an implausible shape.
    static NpyHeader parse(const unsigned char *bytes, std::size_t size, const std::string &file);

    /// Number of elements (1 for a scalar).
    std::uint64_t count() const;
    /// Bytes of data the header announces (count() × itemSize). parse() guarantees it does not overflow.
    std::uint64_t dataBytes() const { return count() * itemSize; }
};

} // namespace convscope
