#pragma once
#include <string>

namespace convscope {

/// One class of a top-k prediction.
struct Prediction {
    int classIndex = -1;
    std::string label;       ///< from the sidecar, or "class <i>"
    float probability = 0;   ///< softmax of the logits
    float logit = 0;
};

} // namespace convscope
