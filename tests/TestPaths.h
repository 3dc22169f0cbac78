#pragma once
// Where tests find generated fixtures, the repository and the built CLI (set by tests/CMakeLists.txt).
#include <string>

namespace testpaths {
inline std::string fixtures() { return CONVSCOPE_FIXTURE_DIR; }
inline std::string source() { return CONVSCOPE_SOURCE_DIR; }
inline std::string cli() { return CONVSCOPE_CLI; }
inline std::string demoModel() { return source() + "/resources/demo/fashion_cnn.pt"; }
inline std::string fashionDir() { return "/usr/share/datasets/fashion-mnist"; }
/// scikit-image's sample photos (Debian python3-skimage): a real folder of odd files, 16-bit and float TIFFs included.
inline std::string skimageData() { return "/usr/lib/python3/dist-packages/skimage/data"; }
} // namespace testpaths
