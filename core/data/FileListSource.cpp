#include "data/FileListSource.h"

#include "data/ImageDecoder.h"

namespace convscope {

cv::Mat FileListSource::image(std::int64_t index) const
{
    return ImageDecoder::decodeFile(files_.at(static_cast<size_t>(index)));
}

cv::Mat FileListSource::reducedImage(std::int64_t index, const std::function<int(int, int)> &reduction) const
{
    return ImageDecoder::decodeFile(files_.at(static_cast<size_t>(index)), reduction);
}

std::string FileListSource::description() const
{
    return files_.size() == 1 ? files_[0] : std::to_string(files_.size()) + " image files";
}

} // namespace convscope
