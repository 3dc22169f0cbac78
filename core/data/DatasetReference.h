#pragma once
// "DATASET#INDEX": one image of a dataset named in a single string, as the CLI and the GUI accept it wherever an
// image is expected (e.g. "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz#42" or "photos/#3").
// Parsing only: ImageReference decides whether a string is a file first and opens the dataset.
#include <cstdint>
#include <optional>
#include <string>

namespace convscope {

struct DatasetReference {
    std::string dataset;     ///< everything before the last '#'; never empty
    std::int64_t index = -1; ///< the whole number after it, ≥ 0

    /// Splits `reference` at its last '#'. nullopt when it holds no '#'. Throws UsageError (naming the reference)
    /// when the dataset part is empty or what follows is not a whole number of at most 18 digits.
    static std::optional<DatasetReference> parse(const std::string &reference);
    /// "DATASET#INDEX" again.
    std::string text() const { return dataset + "#" + std::to_string(index); }
};

} // namespace convscope
