#pragma once
// Training and test images for a linear probe. The dataset's own split when it has one — image names that say
// which part they come from: Fashion-MNIST's "train-images…#i" / "t10k-images…#i" when both idx files are scanned
// as one dataset, or a first folder train/ (training) and test/, val/ or validation/ (test) — otherwise a seeded
// split stratified by class. Optionally only N training images per class (DeCAF's "30 per class"), drawn with the seed.
#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

class ProbeSplit {
public:
    struct Options {
        double testFraction = 0.25; ///< share of each class held out when the dataset has no split of its own
        int perClass = 0;           ///< training images per class (0 = all of the training split)
        std::uint64_t seed = 1;     ///< which images the stratified split and per-class draw take
        bool ownSplit = true;       ///< use the dataset's own split when its names give one
    };

    std::vector<std::int64_t> train, test; ///< image indices, ascending
    std::string how;                       ///< "dataset's own (train / t10k)", "stratified 75/25, seed 1"

    /// Images with labels ≥ 0 only. `names`: ImageSource::name per image (may be empty: no own split). Throws
    /// DataError when no image is labelled or a side of the split is empty.
    static ProbeSplit make(const std::vector<int> &labels, const std::vector<std::string> &names, const Options &options);
    /// 0 for a training image, 1 for a test image, −1 when the name says neither.
    static int partOf(const std::string &name);
};

} // namespace convscope
