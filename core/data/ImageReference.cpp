#include "data/ImageReference.h"

#include "common/Error.h"
#include "data/ImageDecoder.h"
#include "data/ImageSource.h"

#include <QFileInfo>

namespace convscope {

ImageReference ImageReference::load(const std::string &reference)
{
    const auto hash = reference.rfind('#');
    if (hash != std::string::npos && !QFileInfo::exists(QString::fromStdString(reference))) {
        const std::string dataset = reference.substr(0, hash), indexText = reference.substr(hash + 1);
        long long index = -1;
        try {
            size_t used = 0;
            index = std::stoll(indexText, &used);
            if (used != indexText.size())
                index = -1;
        } catch (const std::exception &) {
        }
        if (index < 0)
            throw UsageError("'" + reference + "': expected DATASET#INDEX with a whole number after '#'");
        auto source = ImageSource::open(dataset);
        if (index >= source->size())
            throw UsageError("'" + reference + "': the dataset has " + std::to_string(source->size()) + " images");
        return {source->name(index), source->label(index), source->image(index)};
    }
    return {reference, -1, ImageDecoder::decodeFile(reference)};
}

} // namespace convscope
