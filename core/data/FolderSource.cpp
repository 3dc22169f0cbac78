#include "data/FolderSource.h"

#include "common/Error.h"
#include "data/ImageDecoder.h"

#include <QDir>
#include <QDirIterator>

#include <algorithm>
#include <map>

namespace convscope {

FolderSource::FolderSource(const std::string &root) : root_(QDir(QString::fromStdString(root)).absolutePath().toStdString())
{
    const QDir dir(QString::fromStdString(root_));
    if (!dir.exists())
        throw IoError("folder '" + root + "' does not exist");
    std::vector<std::string> all;
    QDirIterator it(dir.path(), QDir::Files | QDir::Readable, QDirIterator::Subdirectories | QDirIterator::FollowSymlinks);
    while (it.hasNext()) {
        const QString path = it.next();
        if (ImageDecoder::isImageFileName(path.toStdString()))
            all.push_back(dir.relativeFilePath(path).toStdString());
    }
    std::sort(all.begin(), all.end());
    std::map<std::string, int> classIndex;
    for (const auto &f : all)
        if (auto slash = f.find('/'); slash != std::string::npos)
            classIndex.emplace(f.substr(0, slash), 0);
    int next = 0;
    for (auto &[name, index] : classIndex) {
        index = next++;
        classes_.push_back(name);
    }
    files_ = std::move(all);
    for (const auto &f : files_) {
        auto slash = f.find('/');
        labels_.push_back(slash == std::string::npos ? -1 : classIndex[f.substr(0, slash)]);
    }
    if (files_.empty())
        throw DataError("folder '" + root + "' holds no images (looked for .jpg, .png, .bmp, .tif, .webp, .pgm...)");
}

std::string FolderSource::name(std::int64_t index) const
{
    return files_.at(static_cast<size_t>(index));
}

cv::Mat FolderSource::image(std::int64_t index) const
{
    return ImageDecoder::decodeFile(root_ + "/" + files_.at(static_cast<size_t>(index)));
}

cv::Mat FolderSource::reducedImage(std::int64_t index, const std::function<int(int, int)> &reduction) const
{
    return ImageDecoder::decodeFile(root_ + "/" + files_.at(static_cast<size_t>(index)), reduction);
}

std::string FolderSource::description() const
{
    return std::to_string(files_.size()) + " images" +
           (classes_.empty() ? "" : " in " + std::to_string(classes_.size()) + " classes") + " from " + root_;
}

} // namespace convscope
