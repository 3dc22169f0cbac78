#include "scan/FeaturePooling.h"

#include "common/EnumNames.h"

namespace convscope {

namespace {

constexpr EnumName<FeaturePooling> kDescriptors[] = {
    {FeaturePooling::None, "fc"},  {FeaturePooling::Average, "spoc"}, {FeaturePooling::Max, "mac"},
    {FeaturePooling::Average, "sum"}, {FeaturePooling::Average, "avg"}, {FeaturePooling::Max, "max"},
};

} // namespace

const char *descriptorName(FeaturePooling pooling)
{
    return nameOf(kDescriptors, pooling);
}

FeaturePooling parseDescriptor(const std::string &name)
{
    return parseName(kDescriptors, name, "descriptor");
}

FeaturePooling defaultPooling(const LayerInfo &layer)
{
    return layer.outputShape.size() == 2 ? FeaturePooling::None : FeaturePooling::Average;
}

std::string featureName(const LayerInfo &layer, FeaturePooling pooling)
{
    const bool vector = layer.outputShape.size() == 2;
    if (vector && pooling != FeaturePooling::None)
        throw UsageError("layer '" + layer.path + "' is fully connected: use the fc descriptor");
    if (!vector && layer.outputShape.size() != 4)
        throw UsageError("layer '" + layer.path + "' gives no image descriptor (its output is neither a vector nor "
                         "a map)");
    if (!vector && pooling == FeaturePooling::None)
        throw UsageError("layer '" + layer.path + "' outputs maps: use the spoc (sum-pooled) or mac (max-pooled) "
                         "descriptor");
    if (vector)
        return layer.path;
    return layer.path + (pooling == FeaturePooling::Average ? ":avg" : ":max");
}

} // namespace convscope
