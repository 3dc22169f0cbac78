#pragma once
// Helpers that turn LibTorch's long diagnostics into one-line user messages.
#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <string>

namespace convscope {

/// First meaningful line of an exception message (LibTorch appends C++ stack traces and graph dumps).
std::string firstLine(const std::string &message);

/// "1×3×224×224".
std::string shapeString(c10::IntArrayRef sizes);

} // namespace convscope
