#pragma once
// One entry of a unit's top-k ranking, and one entry as a tracker accepted it (TopKTracker's Entry and Accepted;
// here without LibTorch, for the parsers that read them back from a catalogue).
#include <cstdint>

namespace convscope {

struct TopKEntry {
    float value = 0;
    std::int64_t image = -1; ///< dataset index
    int y = -1, x = -1;      ///< position of the value in the channel's map (spatial maximum), else -1
};

struct TopKAccepted {
    std::int64_t channel;
    TopKEntry entry;
};

} // namespace convscope
