#include "data/IdxSource.h"

#include "common/Error.h"

#include <QFileInfo>

#include <zlib.h>

namespace convscope {

namespace {

uint32_t bigEndian(const unsigned char *p)
{
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string labelsFileFor(const std::string &images)
{
    auto at = images.rfind("images-idx3");
    if (at == std::string::npos)
        return {};
    std::string candidate = images;
    candidate.replace(at, 11, "labels-idx1");
    if (QFileInfo::exists(QString::fromStdString(candidate)))
        return candidate;
    return {};
}

} // namespace

std::vector<unsigned char> IdxSource::readFile(const std::string &path)
{
    gzFile f = gzopen(path.c_str(), "rb"); // reads plain files too
    if (!f)
        throw IoError("cannot open '" + path + "'");
    std::vector<unsigned char> data;
    unsigned char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0)
        data.insert(data.end(), buf, buf + n);
    int err = 0;
    const char *msg = gzerror(f, &err);
    gzclose(f);
    if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
        throw DataError("'" + path + "' is corrupt: " + (msg ? msg : "read error"));
    return data;
}

IdxSource::IdxSource(const std::vector<std::string> &imageFiles)
{
    if (imageFiles.empty())
        throw DataError("no idx image files given");
    for (const auto &file : imageFiles) {
        std::vector<unsigned char> data = readFile(file);
        if (data.size() < 16 || bigEndian(data.data()) != 0x00000803)
            throw DataError("'" + file + "' is not an idx3 image file (unsigned bytes, N×rows×columns)");
        const uint64_t n64 = bigEndian(&data[4]), rows64 = bigEndian(&data[8]), cols64 = bigEndian(&data[12]);
        if (rows64 < 1 || rows64 > 65535 || cols64 < 1 || cols64 > 65535)
            throw DataError("'" + file + "' announces images of " + std::to_string(rows64) + "×" +
                            std::to_string(cols64) + " pixels; not a valid idx image file");
        if (n64 > (data.size() - 16) / (rows64 * cols64))
            throw DataError("'" + file + "' is truncated: it announces " + std::to_string(n64) + " images");
        const int64_t n = static_cast<int64_t>(n64);
        const int rows = static_cast<int>(rows64), cols = static_cast<int>(cols64);
        if (rows_ && (rows != rows_ || cols != cols_))
            throw DataError("'" + file + "' has " + std::to_string(rows) + "×" + std::to_string(cols) +
                            " images, unlike the files before it");
        rows_ = rows;
        cols_ = cols;
        parts_.push_back({file, count_, n});
        pixels_.insert(pixels_.end(), data.begin() + 16, data.begin() + 16 + n * rows * cols);

        std::vector<int> labels(static_cast<size_t>(n), -1);
        if (std::string lf = labelsFileFor(file); !lf.empty()) {
            std::vector<unsigned char> l = readFile(lf);
            if (l.size() >= 8 && bigEndian(l.data()) == 0x00000801 && bigEndian(&l[4]) == n &&
                static_cast<int64_t>(l.size()) >= 8 + n)
                for (int64_t i = 0; i < n; ++i)
                    labels[static_cast<size_t>(i)] = l[static_cast<size_t>(8 + i)];
            else
                throw DataError("labels file '" + lf + "' does not match '" + file + "'");
        }
        labels_.insert(labels_.end(), labels.begin(), labels.end());
        count_ += n;
    }
}

std::string IdxSource::name(std::int64_t index) const
{
    for (const auto &p : parts_)
        if (index >= p.first && index < p.first + p.count)
            return QFileInfo(QString::fromStdString(p.file)).fileName().toStdString() + "#" +
                   std::to_string(index - p.first);
    return "#" + std::to_string(index);
}

int IdxSource::label(std::int64_t index) const
{
    return labels_.at(static_cast<size_t>(index));
}

cv::Mat IdxSource::image(std::int64_t index) const
{
    if (index < 0 || index >= count_)
        throw DataError("image index " + std::to_string(index) + " out of range");
    const unsigned char *p = pixels_.data() + index * rows_ * cols_;
    return cv::Mat(rows_, cols_, CV_8UC1, const_cast<unsigned char *>(p)).clone();
}

std::string IdxSource::description() const
{
    std::string files;
    for (const auto &p : parts_)
        files += (files.empty() ? "" : ", ") + QFileInfo(QString::fromStdString(p.file)).fileName().toStdString();
    return std::to_string(count_) + " images (" + std::to_string(rows_) + "×" + std::to_string(cols_) +
           ", idx) from " + files;
}

} // namespace convscope
