#include "model/ModelArchive.h"

#include "common/Error.h"

#include <QFile>

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace convscope {

namespace {

constexpr std::uint32_t kEndSignature = 0x06054b50;         // "PK\5\6": end of central directory
constexpr std::uint32_t kZip64EndSignature = 0x06064b50;    // "PK\6\6": zip64 end of central directory
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50; // "PK\6\7": where the zip64 end record is
constexpr std::uint32_t kCentralSignature = 0x02014b50;     // "PK\1\2": central directory entry
constexpr std::uint32_t kLocalSignature = 0x04034b50;       // "PK\3\4": local file header
constexpr std::uint64_t kEndSize = 22, kZip64EndSize = 56, kZip64LocatorSize = 20, kCentralSize = 46, kLocalSize = 30;
constexpr std::uint16_t kSaturated16 = 0xffff;
constexpr std::uint32_t kSaturated32 = 0xffffffff;

/// Little-endian reads from the file's bytes, each checked against its size: reading outside it is "damaged".
class Bytes {
public:
    Bytes(const unsigned char *data, std::uint64_t size, const std::string &file)
        : data_(data), size_(size), file_(file)
    {
    }
    std::uint64_t size() const { return size_; }
    const std::string &name() const { return file_; }
    bool has(std::uint64_t at, std::uint64_t n) const { return at <= size_ && n <= size_ - at; }
    const unsigned char *at(std::uint64_t offset, std::uint64_t n) const
    {
        if (!has(offset, n))
            damaged("a record at offset " + std::to_string(offset) + " runs past the end of the file");
        return data_ + offset;
    }
    std::uint16_t u16(std::uint64_t offset) const { return static_cast<std::uint16_t>(le(offset, 2)); }
    std::uint32_t u32(std::uint64_t offset) const { return static_cast<std::uint32_t>(le(offset, 4)); }
    std::uint64_t u64(std::uint64_t offset) const { return le(offset, 8); }

    [[noreturn]] void damaged(const std::string &what) const
    {
        throw ModelLoadError("cannot open model '" + file_ + "': the file is damaged: " + what +
                             " (was it cut short or changed after torch.jit.save wrote it?)");
    }

private:
    std::uint64_t le(std::uint64_t offset, int n) const
    {
        const unsigned char *p = at(offset, static_cast<std::uint64_t>(n));
        std::uint64_t v = 0;
        for (int i = n - 1; i >= 0; --i)
            v = (v << 8) | p[i];
        return v;
    }

    const unsigned char *data_;
    std::uint64_t size_;
    const std::string &file_;
};

/// Where the central directory is: `count` entries in `size` bytes at `offset`, followed by the end records at `end`.
struct Directory {
    std::uint64_t offset = 0, size = 0, count = 0, end = 0;
};

/// A zip64 value replaces its 32-bit field only where that is saturated; elsewhere both must agree.
std::uint64_t merged(std::uint64_t narrow, std::uint64_t saturated, std::uint64_t wide, const Bytes &b)
{
    if (narrow != saturated && narrow != wide)
        b.damaged("its zip64 end record contradicts its end-of-central-directory record");
    return wide;
}

void readZip64End(const Bytes &b, std::uint64_t locator, Directory &d)
{
    if (b.u32(locator + 4) != 0 || b.u32(locator + 16) > 1)
        b.damaged("it claims to span several disks");
    const std::uint64_t at = b.u64(locator + 8);
    if (at > locator || locator - at < kZip64EndSize || b.u32(at) != kZip64EndSignature)
        b.damaged("its zip64 end record is missing (the locator points to offset " + std::to_string(at) + ")");
    if (b.u32(at + 16) != 0 || b.u32(at + 20) != 0 || b.u64(at + 24) != b.u64(at + 32))
        b.damaged("it claims to span several disks");
    d.count = merged(d.count, kSaturated16, b.u64(at + 32), b);
    d.size = merged(d.size, kSaturated32, b.u64(at + 40), b);
    d.offset = merged(d.offset, kSaturated32, b.u64(at + 48), b);
    d.end = at;
}

Directory findDirectory(const Bytes &b)
{
    if (b.size() < kEndSize)
        b.damaged("it is too short to be a zip archive");
    const std::uint64_t last = b.size() - kEndSize, lowest = last > 65535 ? last - 65535 : 0;
    std::uint64_t at = last;
    while (b.u32(at) != kEndSignature) {
        if (at == lowest)
            b.damaged("its end-of-central-directory record is missing, so the file is truncated");
        --at;
    }
    if (b.u16(at + 4) != 0 || b.u16(at + 6) != 0 || b.u16(at + 8) != b.u16(at + 10))
        b.damaged("it claims to span several disks");
    Directory d{b.u32(at + 16), b.u32(at + 12), b.u16(at + 10), at};
    if (at >= kZip64LocatorSize && b.u32(at - kZip64LocatorSize) == kZip64LocatorSignature)
        readZip64End(b, at - kZip64LocatorSize, d);
    else if (d.count == kSaturated16 || d.size == kSaturated32 || d.offset == kSaturated32)
        b.damaged("its zip64 end record is missing");
    if (d.offset > d.end || d.size > d.end - d.offset)
        b.damaged("its central directory (" + std::to_string(d.size) + " bytes at offset " + std::to_string(d.offset) +
                  ") lies outside the file");
    if (d.count > d.size / kCentralSize)
        b.damaged("its central directory is too small for the " + std::to_string(d.count) + " entries it announces");
    return d;
}

/// Reads the zip64 extended information (extra field 0x0001) for the fields that are saturated, in the order the
/// format gives them: uncompressed size, compressed size, local header offset.
void readZip64Extra(const Bytes &b, std::uint64_t extra, std::uint64_t length, ModelArchive::Entry &e)
{
    std::vector<std::uint64_t *> wanted;
    for (std::uint64_t *field : {&e.size, &e.compressedSize, &e.localHeader})
        if (*field == kSaturated32)
            wanted.push_back(field);
    if (wanted.empty())
        return;
    const std::uint64_t end = extra + length;
    for (std::uint64_t at = extra; end - at >= 4;) {
        const std::uint64_t id = b.u16(at), n = b.u16(at + 2);
        if (n > end - at - 4)
            b.damaged("the extra field of '" + e.name + "' runs past its entry");
        if (id == 1 && n >= 8 * wanted.size()) {
            for (size_t i = 0; i < wanted.size(); ++i)
                *wanted[i] = b.u64(at + 4 + 8 * i);
            return;
        }
        at += 4 + n;
    }
    b.damaged("the zip64 sizes of '" + e.name + "' are missing");
}

/// Reads the central directory entry at `at` (entry `index`) into `e`; returns where the next one starts.
std::uint64_t readCentralEntry(const Bytes &b, std::uint64_t at, const Directory &d, std::uint64_t index,
                               ModelArchive::Entry &e)
{
    const std::uint64_t end = d.offset + d.size;
    if (end - at < kCentralSize || b.u32(at) != kCentralSignature)
        b.damaged("entry " + std::to_string(index) + " of its central directory is damaged");
    const std::uint16_t flags = b.u16(at + 8);
    e.method = b.u16(at + 10);
    e.crc32 = b.u32(at + 16);
    e.compressedSize = b.u32(at + 20);
    e.size = b.u32(at + 24);
    const std::uint64_t nameLength = b.u16(at + 28), extraLength = b.u16(at + 30), commentLength = b.u16(at + 32);
    e.localHeader = b.u32(at + 42);
    const std::uint64_t next = at + kCentralSize + nameLength + extraLength + commentLength;
    if (next > end)
        b.damaged("entry " + std::to_string(index) + " runs past the end of its central directory");
    e.name.assign(reinterpret_cast<const char *>(b.at(at + kCentralSize, nameLength)), nameLength);
    if (e.name.empty())
        b.damaged("entry " + std::to_string(index) + " of its central directory has no name");
    readZip64Extra(b, at + kCentralSize + nameLength, extraLength, e);
    if (flags & 0x41)
        throw ModelLoadError("cannot open model '" + b.name() + "': the record '" + e.name +
                             "' is encrypted; LibTorch cannot read it");
    if (e.method != 0 && e.method != 8)
        throw ModelLoadError("cannot open model '" + b.name() + "': the record '" + e.name +
                             "' uses compression method " + std::to_string(e.method) +
                             "; LibTorch reads only stored and deflated records");
    if ((e.method == 0 && e.compressedSize != e.size) || (e.method == 8 && e.size > 0 && e.compressedSize == 0))
        b.damaged("the sizes of '" + e.name + "' contradict each other");
    return next;
}

/// Finds the entry's local header and data, which must lie before the central directory.
void locateData(const Bytes &b, const Directory &d, ModelArchive::Entry &e)
{
    const std::uint64_t at = e.localHeader;
    if (at > d.offset || d.offset - at < kLocalSize || b.u32(at) != kLocalSignature)
        b.damaged("the record '" + e.name + "' is not where its central directory entry says (offset " +
                  std::to_string(at) + ")");
    const std::uint64_t nameLength = b.u16(at + 26), extraLength = b.u16(at + 28);
    if (nameLength != e.name.size() || std::memcmp(b.at(at + kLocalSize, nameLength), e.name.data(), nameLength) != 0)
        b.damaged("the local header at offset " + std::to_string(at) + " does not name '" + e.name + "'");
    e.dataOffset = at + kLocalSize + nameLength + extraLength;
    if (e.dataOffset > d.offset || e.compressedSize > d.offset - e.dataOffset)
        b.damaged("the data of '" + e.name + "' (" + std::to_string(e.compressedSize) + " bytes at offset " +
                  std::to_string(e.dataOffset) + ") runs past the end of the records");
}

std::uint32_t storedCrc(const unsigned char *p, std::uint64_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    for (std::uint64_t done = 0; done < n;) {
        const auto chunk = static_cast<uInt>(std::min<std::uint64_t>(n - done, 1u << 30));
        crc = crc32(crc, p + done, chunk);
        done += chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

/// CRC-32 of a raw deflate stream's output into `crc`; false when the stream is damaged or its output is not exactly
/// `size` bytes.
bool inflatedCrc(const unsigned char *p, std::uint64_t compressed, std::uint64_t size, std::uint32_t &crc)
{
    z_stream z{};
    if (inflateInit2(&z, -15) != Z_OK)
        return false;
    std::unique_ptr<z_stream, int (*)(z_stream *)> guard(&z, inflateEnd);
    unsigned char chunk[1 << 16];
    uLong sum = crc32(0L, Z_NULL, 0);
    std::uint64_t fed = 0, made = 0;
    int status = Z_OK;
    while (status == Z_OK) {
        if (z.avail_in == 0 && fed < compressed) {
            z.next_in = const_cast<unsigned char *>(p + fed);
            z.avail_in = static_cast<uInt>(std::min<std::uint64_t>(compressed - fed, 1u << 30));
            fed += z.avail_in;
        }
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        status = inflate(&z, Z_NO_FLUSH);
        const uInt n = static_cast<uInt>(sizeof chunk - z.avail_out);
        made += n;
        if (made > size)
            return false;
        sum = crc32(sum, chunk, n);
    }
    crc = static_cast<std::uint32_t>(sum);
    return status == Z_STREAM_END && made == size;
}

} // namespace

ModelArchive ModelArchive::parse(const unsigned char *data, std::size_t size, const std::string &file)
{
    const Bytes b(data, size, file);
    const Directory d = findDirectory(b);
    ModelArchive a;
    a.file_ = file;
    a.entries_.reserve(static_cast<size_t>(d.count));
    std::uint64_t at = d.offset;
    for (std::uint64_t i = 0; i < d.count; ++i) {
        Entry e;
        at = readCentralEntry(b, at, d, i, e);
        locateData(b, d, e);
        a.entries_.push_back(std::move(e));
    }
    if (!a.entries_.empty()) {
        const std::string &first = a.entries_.front().name;
        a.root_ = first.substr(0, std::min(first.find('/'), first.size()));
        if (a.root_ == first)
            a.root_.clear(); // not in a folder
    }
    return a;
}

void ModelArchive::verifyContents(const unsigned char *data) const
{
    for (const Entry &e : entries_) {
        std::uint32_t crc = 0;
        bool ok = true;
        if (e.method == 0)
            crc = storedCrc(data + e.dataOffset, e.size);
        else
            ok = inflatedCrc(data + e.dataOffset, e.compressedSize, e.size, crc);
        if (!ok || crc != e.crc32)
            throw ModelLoadError("cannot open model '" + file_ + "': the file is damaged: the contents of '" +
                                 e.name + "' do not match their checksum (was it changed or corrupted after it "
                                 "was saved?)");
    }
}

bool ModelArchive::contains(const std::string &name) const
{
    const std::string full = root_ + "/" + name;
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry &e) { return e.name == full; });
}

bool ModelArchive::containsFolder(const std::string &folder) const
{
    const std::string prefix = root_ + "/" + folder + "/";
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const Entry &e) { return e.name.compare(0, prefix.size(), prefix) == 0; });
}

void ModelArchive::requireTorchScript() const
{
    const std::string notTorchScript = "'" + file_ + "' is a zip archive but not a TorchScript model: ";
    if (entries_.empty())
        throw ModelLoadError(notTorchScript + "it holds no records");
    if (root_.empty())
        throw ModelLoadError(notTorchScript + "its records are not inside a folder, as torch.jit.save writes them");
    if (!contains("data.pkl") || (!contains("version") && !contains(".data/version")))
        throw ModelLoadError(notTorchScript + "it lacks '" + root_ + "/data.pkl' or '" + root_ + "/version'");
    if (!contains("constants.pkl") && !containsFolder("code"))
        throw ModelLoadError(notTorchScript + "it holds no TorchScript code ('" + root_ + "/constants.pkl', '" + root_ +
                             "/code/'): a state_dict or a model pickled with torch.save? Save the model with "
                             "torch.jit.script(model).save(path) or torch.jit.trace(model, example).save(path)");
}

ModelArchive ModelArchive::check(const unsigned char *data, std::size_t size, const std::string &file)
{
    ModelArchive a = parse(data, size, file);
    a.verifyContents(data);
    a.requireTorchScript();
    return a;
}

void ModelArchive::checkFile(const std::string &path)
{
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read model file '" + path + "': " + f.errorString().toStdString());
    const qint64 size = f.size();
    if (size == 0)
        throw ModelLoadError("model file '" + path + "' is empty (0 bytes)");
    if (const uchar *mapped = f.map(0, size)) {
        check(mapped, static_cast<std::size_t>(size), path);
        return;
    }
    const QByteArray bytes = f.readAll(); // not mappable (a pipe, some network file systems)
    check(reinterpret_cast<const unsigned char *>(bytes.constData()), static_cast<std::size_t>(bytes.size()), path);
}

} // namespace convscope
