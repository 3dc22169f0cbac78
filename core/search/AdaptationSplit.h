#pragma once
// Which images train an adapted descriptor and which test it, the way retrieval papers keep them apart:
//   unseen classes  train on the images of some classes, test on the images of all the others (the split that
//                   says whether the descriptor learned something general, not just the training classes);
//   ordinary        train on a fraction of each class's images, test on the rest.
// Test images are both the queries and the database of the evaluation; training never sees them.
#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

class AdaptationSplit {
public:
    struct Options {
        std::vector<int> trainClasses; ///< train on these classes, test on the others; empty = split by fraction
        double trainFraction = 0.5;    ///< share of every class's images that trains (ordinary split), in (0, 1)
        std::uint64_t seed = 1;        ///< which images train (ordinary split)
    };
    enum class Role : std::int8_t { Unused, Train, Test };

    /// `labels` per dataset image (−1 = unlabelled); `usable[i]` false leaves image i out (no features). Throws
    /// DataError for a dataset without labels, with fewer than 2 classes, or a split that leaves the training or
    /// the test part without 2 classes; UsageError for a fraction outside (0, 1).
    AdaptationSplit(const std::vector<int> &labels, const std::vector<bool> &usable, Options options);

    const Options &options() const { return options_; }
    Role role(std::int64_t image) const { return roles_[static_cast<size_t>(image)]; }
    /// Dataset indices with that role, ascending.
    std::vector<std::int64_t> rows(Role role) const;
    /// Labels of the test images, −1 for all others (what RetrievalEvaluator scores).
    std::vector<int> testLabels() const;
    /// "train: classes 0-4, 5000 images; test: classes 5-9 (unseen), 5000 images".
    std::string describe() const;

    /// Parses "0-4", "0,2,5-7" into class ids. UsageError for anything else.
    static std::vector<int> parseClasses(const std::string &text);
    /// "0-4,7": the inverse of parseClasses for sorted ids.
    static std::string formatClasses(std::vector<int> classes);

private:
    std::vector<int> labels_;
    std::vector<Role> roles_;
    Options options_;
};

} // namespace convscope
