#pragma once
// How a layer's output becomes one vector per image, for the features a scan keeps, the search descriptors and the
// dataset map: the one pooling enum of Convscope.
#include "model/LayerInfo.h"

#include <string>

namespace convscope {

enum class FeaturePooling {
    None,    ///< the output as it is: a fully connected layer's vector ("fc", Neural Codes)
    Average, ///< each channel's spatial mean ("spoc": sum pooling, the same after L2 normalisation; ":avg" in scans)
    Max,     ///< each channel's spatial maximum ("mac"; ":max" in scans)
};

/// "fc", "spoc", "mac" (the descriptor names of the CLI and the index metadata).
const char *descriptorName(FeaturePooling pooling);
/// "fc", "spoc" (also "sum", "avg"), "mac" (also "max"); throws UsageError naming the choices otherwise.
FeaturePooling parseDescriptor(const std::string &name);
/// fc for a fully connected (vector) layer, spoc for a layer of maps.
FeaturePooling defaultPooling(const LayerInfo &layer);
/// The name a scan keeps the feature under: "path" for vectors, "path:avg" / "path:max" for pooled maps. Throws
/// UsageError when the pooling does not fit the layer (fc of maps, spoc/mac of a vector, neither a vector nor maps).
std::string featureName(const LayerInfo &layer, FeaturePooling pooling);

} // namespace convscope
