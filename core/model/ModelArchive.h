#pragma once
// The zip container of a TorchScript model (what torch.jit.save writes), checked before LibTorch opens it.
// LibTorch's reader (miniz; it does not check CRCs) trusts what it reads: a damaged zip gives only
// "PytorchStreamReader failed reading zip archive: invalid header or archive is corrupted", and a changed byte
// inside a pickle can crash the process (constants.pkl changed from "\x80\x02)." to "\x80\x02Q." makes LibTorch
// 1.13's unpickler segfault).
//
// The check parses the end-of-central-directory record (zip64 too) and the central directory with every offset and
// size bounds-checked against the file, finds each entry's local header and data inside the file, recomputes every
// entry's CRC-32 (inflating deflated ones), and requires the records of a TorchScript archive: NAME/data.pkl,
// NAME/version (or NAME/.data/version) and NAME/constants.pkl or NAME/code/. It works on bytes in memory (the
// model file is mapped, not copied), so the fuzz target runs the same code. Costs one pass over the file: 0.1 s for
// AlexNet's 228 MB from the page cache.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

class ModelArchive {
public:
    struct Entry {
        std::string name;                ///< path inside the archive ("fashion_cnn/data.pkl")
        std::uint16_t method = 0;        ///< 0 stored, 8 deflated (what LibTorch's miniz reads)
        std::uint32_t crc32 = 0;         ///< CRC-32 of the uncompressed bytes, from the central directory
        std::uint64_t compressedSize = 0, size = 0;
        std::uint64_t localHeader = 0;   ///< offset of the entry's local file header
        std::uint64_t dataOffset = 0;    ///< offset of its (compressed) bytes, after the local header
    };

    /// Parses the directory of the `size` bytes at `data`; `file` names the model in messages. Throws
    /// ModelLoadError for a truncated file, a damaged central directory, offsets or sizes that point outside the
    /// file, and encrypted entries or compression methods LibTorch cannot read.
    static ModelArchive parse(const unsigned char *data, std::size_t size, const std::string &file);
    /// parse(), verifyContents() and requireTorchScript(): the whole check on bytes in memory.
    static ModelArchive check(const unsigned char *data, std::size_t size, const std::string &file);
    /// Maps the file at `path` and check()s it. Throws IoError when it cannot be read, ModelLoadError otherwise.
    static void checkFile(const std::string &path);

    /// Recomputes every entry's CRC-32 from `data` (the bytes given to parse()); throws ModelLoadError naming the
    /// first entry whose contents are damaged.
    void verifyContents(const unsigned char *data) const;
    /// Throws ModelLoadError unless the archive holds the records of a TorchScript model (see above); the message
    /// says what the file seems to be instead (a state_dict or a pickled model saved with torch.save).
    void requireTorchScript() const;

    /// The folder every record of a TorchScript archive lives in: the first entry's name up to its first '/'.
    const std::string &root() const { return root_; }
    const std::vector<Entry> &entries() const { return entries_; }
    /// Whether root()/`name` is an entry.
    bool contains(const std::string &name) const;
    /// Whether an entry's name starts with root()/`folder`/.
    bool containsFolder(const std::string &folder) const;

private:
    std::string file_, root_;
    std::vector<Entry> entries_;
};

} // namespace convscope
