#pragma once
// What a scan's row in the project catalogue says about its layout, read back from the two JSON columns and
// checked before anything indexes with it: the scanned layers with their channel counts (column `layers`:
// {"layers": ["features.conv1", ...], "channels": [32, ...]}) and the kept features (column `features`:
// [{"name": "classifier.fc1", "layer": "classifier.fc1", "dims": 128}, ...]). ProjectStore writes both; a damaged or
// hand-edited catalogue gives a DataError here rather than an out-of-range index or a huge allocation later.
#include <QByteArray>

#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

struct ScanLayout {
    struct Feature {
        std::string name;       ///< "classifier.fc1", "features:avg" (also the .npy file's name, made safe)
        std::string layer;      ///< layer path
        std::int64_t dims = 0;  ///< 1 … 2^28
    };
    std::vector<std::string> layers;    ///< scanned layer paths, in tracker order; non-empty names
    std::vector<std::int64_t> channels; ///< per layer (same length), 1 … 2^24
    std::vector<Feature> features;

    /// Parses the `layers` and `features` columns. `where` names the catalogue in messages. Throws DataError
    /// ("the project catalogue in '...' is damaged (...)") for invalid JSON, wrong types, mismatched lengths or
    /// counts out of range.
    static ScanLayout parse(const QByteArray &layersJson, const QByteArray &featuresJson, const std::string &where);
};

} // namespace convscope
