#pragma once
// The optional JSON file next to a model (`model.json` or `model.pt.json`) that says how to feed it and how to
// name what it outputs. Example:
//   { "name": "...", "input": {"width": 28, "height": 28, "channels": 1, "mean": [0.286], "std": [0.353],
//     "resize": "stretch|crop|pad", "resize_to": 256, "range": 1.0, "channel_order": "rgb|bgr"},
//     "labels": ["T-shirt", ...]  or  "labels_file": "labels.txt" (one per line, relative to the JSON),
//     "layer_names": {"features.conv1": "conv 1"}, "dataset": "path/to/images" }
#include "model/InputSpec.h"

#include <map>
#include <string>
#include <vector>

namespace convscope {

struct ModelSidecar {
    std::string name;
    std::string description;
    InputSpec input;
    std::vector<std::string> labels;                  ///< class names by output index (may be empty)
    std::map<std::string, std::string> layerNames;    ///< module path -> friendly name
    std::string dataset;                              ///< default dataset (absolute, or empty)
    std::string path;                                 ///< the JSON file read; empty when defaults are used
    std::vector<std::string> notes;                   ///< assumptions made (shown to the user)

    /// The sidecar file belonging to `modelPath`, or "" when there is none.
    static std::string findFor(const std::string &modelPath);
    /// Parses a sidecar. Missing fields keep the defaults for `channels` input channels.
    /// Throws IoError (unreadable) or DataError (invalid JSON or values), naming the file and the field.
    static ModelSidecar load(const std::string &jsonPath, int channels);
    /// Defaults when there is no sidecar: ImageNet preprocessing at 224 for 3 channels; 28×28, pixels in [0,1]
    /// for 1 channel. `notes` says so.
    static ModelSidecar defaults(int channels);
};

} // namespace convscope
