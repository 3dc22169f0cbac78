#pragma once
// The IDX format of MNIST / Fashion-MNIST, parsed from bytes in memory (IdxSource reads files with it; the fuzz
// target feeds it bytes). An images file is a big-endian header — magic 0x00000803 (unsigned bytes, 3
// dimensions), count, rows, columns — then count × rows × columns pixels; a labels file is magic 0x00000801,
// count, then one byte per image. Either may be gzip-compressed (one or more gzip members, as gzip and zlib's
// gzread accept).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

class IdxFile {
public:
    /// What an images file's header announces; the pixels start at byte `offset` of the decoded file.
    struct Images {
        std::int64_t count = 0;
        int rows = 0, cols = 0;
        std::size_t offset = 16;
    };

    /// The file's bytes, gunzipped when they start with the gzip magic, copied otherwise. Throws DataError naming
    /// `file` for a damaged or truncated gzip stream.
    static std::vector<unsigned char> decode(const unsigned char *bytes, std::size_t size, const std::string &file);
    /// Reads and decode()s a file. Throws IoError (cannot read) or DataError.
    static std::vector<unsigned char> read(const std::string &path);

    /// Checks an images file: magic, plausible sizes (1–65535 rows and columns), and that it holds every image it
    /// announces. Throws DataError naming `file`.
    static Images images(const std::vector<unsigned char> &data, const std::string &file);
    /// The labels of a labels file that must hold exactly `count` labels (those of `imagesFile`). Throws DataError
    /// naming both files when it does not match.
    static std::vector<int> labels(const std::vector<unsigned char> &data, std::int64_t count,
                                   const std::string &file, const std::string &imagesFile);
};

} // namespace convscope
