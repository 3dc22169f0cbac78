#include "data/IdxSource.h"

#include "common/Error.h"
#include "data/IdxFile.h"

#include <QFileInfo>

namespace convscope {

namespace {

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
    return IdxFile::read(path);
}

IdxSource::IdxSource(const std::vector<std::string> &imageFiles)
{
    if (imageFiles.empty())
        throw DataError("no idx image files given");
    for (const auto &file : imageFiles) {
        const std::vector<unsigned char> data = IdxFile::read(file);
        const IdxFile::Images im = IdxFile::images(data, file);
        if (rows_ && (im.rows != rows_ || im.cols != cols_))
            throw DataError("'" + file + "' has " + std::to_string(im.rows) + "×" + std::to_string(im.cols) +
                            " images, unlike the files before it");
        rows_ = im.rows;
        cols_ = im.cols;
        parts_.push_back({file, count_, im.count});
        const auto first = data.begin() + static_cast<std::ptrdiff_t>(im.offset);
        pixels_.insert(pixels_.end(), first, first + im.count * im.rows * im.cols);
        std::vector<int> labels(static_cast<size_t>(im.count), -1);
        if (std::string lf = labelsFileFor(file); !lf.empty())
            labels = IdxFile::labels(IdxFile::read(lf), im.count, lf, file);
        labels_.insert(labels_.end(), labels.begin(), labels.end());
        count_ += im.count;
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
