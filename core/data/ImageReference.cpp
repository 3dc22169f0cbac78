#include "data/ImageReference.h"

#include "common/Error.h"
#include "data/DatasetReference.h"
#include "data/ImageDecoder.h"
#include "data/ImageSource.h"

#include <QFileInfo>

namespace convscope {

ImageReference ImageReference::load(const std::string &reference)
{
    if (QFileInfo::exists(QString::fromStdString(reference)))
        return {reference, -1, ImageDecoder::decodeFile(reference)};
    const std::optional<DatasetReference> item = DatasetReference::parse(reference);
    if (!item)
        return {reference, -1, ImageDecoder::decodeFile(reference)}; // reports the missing file
    auto source = ImageSource::open(item->dataset);
    if (item->index >= source->size())
        throw UsageError("'" + reference + "': the dataset has " + std::to_string(source->size()) + " images");
    return {source->name(item->index), source->label(item->index), source->image(item->index)};
}

} // namespace convscope
