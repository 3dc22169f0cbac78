#include "common/TextFormat.h"

#include <sstream>

namespace convscope {

std::string firstLine(const std::string &message)
{
    // The interpreter wraps the real error after a TorchScript traceback: prefer "RuntimeError: <reason>".
    const std::string marker = "RuntimeError: ";
    if (auto at = message.rfind(marker); at != std::string::npos) {
        std::string reason = message.substr(at + marker.size());
        reason = reason.substr(0, reason.find('\n'));
        if (!reason.empty())
            return reason.size() > 300 ? reason.substr(0, 297) + "..." : reason;
    }
    std::istringstream in(message);
    std::string line;
    while (std::getline(in, line)) {
        auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos)
            continue;
        line = line.substr(start);
        // Skip TorchScript's "The following operation failed in the TorchScript interpreter." preamble.
        if (line.rfind("The following operation failed", 0) == 0 || line.rfind("Traceback", 0) == 0 ||
            line.rfind("File \"", 0) == 0 || line.rfind("~", 0) == 0)
            continue;
        if (line.size() > 300)
            line = line.substr(0, 297) + "...";
        return line;
    }
    return message.empty() ? "unknown error" : message.substr(0, 300);
}

std::string shapeString(c10::IntArrayRef sizes)
{
    std::string s;
    for (size_t i = 0; i < sizes.size(); ++i) {
        if (i)
            s += "\u00d7";
        s += std::to_string(sizes[i]);
    }
    return s.empty() ? "scalar" : s;
}

} // namespace convscope
