#pragma once
// `index-NAME/meta.json` of a descriptor index: what DescriptorIndex saves beside its pipeline and search index, and
// reads back (checked) when it opens the index. Parsed from bytes in memory so the fuzz target runs the same code.
//   {"name": "fc2-fc-128", "layer": "classifier.fc2", "descriptor": "fc", "scan": 1, "features": "/p/scan-1/x.npy",
//    "model": "/m.pt", "dataset": "/d", "metric": "l2", "index": "exact", "size": 10000, "dims": 128,
//    "created": "2026-11-29T10:00:00.000Z", "added": ["/photos/cat.jpg"]}
#include "scan/FeaturePooling.h"

#include <QByteArray>

#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

struct IndexMetadata {
    std::string name;      ///< folder name after "index-"; no '/', not "." or ".."
    std::string layer;     ///< layer path the descriptors come from; non-empty
    FeaturePooling pooling = FeaturePooling::Average;
    std::int64_t scan = 0; ///< id of the scan whose features were indexed, ≥ 1
    std::string features;  ///< the .npy matrix of raw features
    std::string model, dataset;
    std::string metric;    ///< "l2", "l1", "cosine" (informative; the index file holds its own)
    std::string kind;      ///< "exact", "hnsw", "ivfpq" (informative)
    std::int64_t size = 0, dims = 0;
    std::string created;   ///< ISO 8601 with milliseconds; list() sorts by it
    std::vector<std::string> added; ///< files added after the build (DescriptorIndex::firstAddedId() onwards)

    /// Parses meta.json. `file` names it in messages. Throws DataError for invalid JSON, a missing or wrongly typed
    /// field, an unknown descriptor or a name that is not a plain folder name.
    static IndexMetadata parse(const QByteArray &json, const std::string &file);
    /// The JSON parse() reads (indented, as saved).
    QByteArray toJson() const;
};

} // namespace convscope
