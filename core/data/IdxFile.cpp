#include "data/IdxFile.h"

#include "common/Error.h"

#include <QFile>

#include <zlib.h>

#include <algorithm>
#include <memory>

namespace convscope {

namespace {

std::uint32_t bigEndian(const unsigned char *p)
{
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

bool gzipMagic(const unsigned char *bytes, std::size_t size)
{
    return size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

/// Inflates the gzip member at the start of `bytes` onto `out`; returns the bytes it used.
std::size_t inflateMember(const unsigned char *bytes, std::size_t size, std::vector<unsigned char> &out,
                          const std::string &file)
{
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) // gzip wrapper only
        throw DataError("cannot decompress '" + file + "': out of memory");
    std::unique_ptr<z_stream, int (*)(z_stream *)> guard(&z, inflateEnd);
    z.next_in = const_cast<unsigned char *>(bytes);
    unsigned char chunk[1 << 16];
    int status = Z_OK;
    std::size_t left = size;
    while (status != Z_STREAM_END) {
        const auto feed = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
        z.avail_in = feed;
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        status = inflate(&z, Z_NO_FLUSH);
        const std::size_t used = feed - z.avail_in, made = sizeof chunk - z.avail_out;
        left -= used;
        out.insert(out.end(), chunk, chunk + made);
        if (status == Z_BUF_ERROR && used == 0 && made == 0) // no progress: the input ended inside the stream
            throw DataError("'" + file + "' is corrupt: the gzip stream is cut short");
        if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
            throw DataError("'" + file + "' is corrupt: " + (z.msg ? z.msg : "gzip data error"));
    }
    return size - left;
}

} // namespace

std::vector<unsigned char> IdxFile::decode(const unsigned char *bytes, std::size_t size, const std::string &file)
{
    if (!gzipMagic(bytes, size))
        return std::vector<unsigned char>(bytes, bytes + size);
    std::vector<unsigned char> out;
    std::size_t at = 0;
    // Members follow each other (as `cat a.gz b.gz` makes); anything else after a member is ignored, as gzread does.
    while (at < size && gzipMagic(bytes + at, size - at))
        at += inflateMember(bytes + at, size - at, out, file);
    return out;
}

std::vector<unsigned char> IdxFile::read(const std::string &path)
{
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot open '" + path + "': " + f.errorString().toStdString());
    const QByteArray bytes = f.readAll();
    if (f.error() != QFileDevice::NoError)
        throw IoError("cannot read '" + path + "': " + f.errorString().toStdString());
    return decode(reinterpret_cast<const unsigned char *>(bytes.constData()), static_cast<std::size_t>(bytes.size()),
                  path);
}

IdxFile::Images IdxFile::images(const std::vector<unsigned char> &data, const std::string &file)
{
    if (data.size() < 16 || bigEndian(data.data()) != 0x00000803)
        throw DataError("'" + file + "' is not an idx3 image file (unsigned bytes, N×rows×columns)");
    const std::uint64_t n = bigEndian(&data[4]), rows = bigEndian(&data[8]), cols = bigEndian(&data[12]);
    if (rows < 1 || rows > 65535 || cols < 1 || cols > 65535)
        throw DataError("'" + file + "' announces images of " + std::to_string(rows) + "×" + std::to_string(cols) +
                        " pixels; not a valid idx image file");
    if (n > (data.size() - 16) / (rows * cols))
        throw DataError("'" + file + "' is truncated: it announces " + std::to_string(n) + " images");
    Images im;
    im.count = static_cast<std::int64_t>(n);
    im.rows = static_cast<int>(rows);
    im.cols = static_cast<int>(cols);
    return im;
}

std::vector<int> IdxFile::labels(const std::vector<unsigned char> &data, std::int64_t count, const std::string &file,
                                 const std::string &imagesFile)
{
    if (data.size() < 8 || bigEndian(data.data()) != 0x00000801 || bigEndian(&data[4]) != count ||
        static_cast<std::uint64_t>(data.size() - 8) < static_cast<std::uint64_t>(count))
        throw DataError("labels file '" + file + "' does not match '" + imagesFile + "'");
    std::vector<int> out(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = data[8 + i];
    return out;
}

} // namespace convscope
