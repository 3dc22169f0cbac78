#include "probe/ProbeSplit.h"

#include "common/Error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <random>

namespace convscope {

namespace {

std::string lower(std::string s)
{
    for (char &c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

int ProbeSplit::partOf(const std::string &name)
{
    // The first path component, or the file part before '#' of an idx reference ("train-images-idx3-ubyte.gz#12").
    std::string head = name.substr(0, name.find_first_of("/#"));
    head = lower(head);
    const auto word = head.substr(0, head.find_first_of("-_."));
    if (word == "train" || word == "training")
        return 0;
    if (word == "test" || word == "t10k" || word == "val" || word == "validation")
        return 1;
    return -1;
}

ProbeSplit ProbeSplit::make(const std::vector<int> &labels, const std::vector<std::string> &names,
                            const Options &options)
{
    ProbeSplit split;
    std::map<int, std::vector<std::int64_t>> byClass;
    for (size_t i = 0; i < labels.size(); ++i)
        if (labels[i] >= 0)
            byClass[labels[i]].push_back(static_cast<std::int64_t>(i));
    if (byClass.empty())
        throw DataError("the dataset has no labels: a linear probe learns the dataset's classes");
    std::mt19937_64 rng(options.seed);

    bool own = options.ownSplit && names.size() == labels.size();
    if (own) {
        bool sawTrain = false, sawTest = false;
        for (size_t i = 0; i < labels.size() && own; ++i) {
            if (labels[i] < 0)
                continue;
            const int part = partOf(names[i]);
            own = part >= 0;
            sawTrain = sawTrain || part == 0;
            sawTest = sawTest || part == 1;
        }
        own = own && sawTrain && sawTest;
    }
    std::map<int, std::vector<std::int64_t>> trainByClass;
    if (own) {
        for (const auto &[label, images] : byClass)
            for (auto i : images)
                (partOf(names[static_cast<size_t>(i)]) == 0 ? trainByClass[label] : split.test).push_back(i);
        split.how = "the dataset's own";
    } else {
        if (!(options.testFraction > 0 && options.testFraction < 1))
            throw UsageError("the test share of a probe split must lie between 0 and 1");
        for (auto &[label, images] : byClass) {
            std::vector<std::int64_t> shuffled = images;
            std::shuffle(shuffled.begin(), shuffled.end(), rng);
            auto held = static_cast<size_t>(std::llround(options.testFraction * static_cast<double>(shuffled.size())));
            held = std::min(held, shuffled.size() > 1 ? shuffled.size() - 1 : size_t(0));
            split.test.insert(split.test.end(), shuffled.begin(), shuffled.begin() + static_cast<long>(held));
            trainByClass[label].assign(shuffled.begin() + static_cast<long>(held), shuffled.end());
        }
        const int percent = static_cast<int>(std::lround(100 * options.testFraction));
        split.how = "stratified " + std::to_string(100 - percent) + "/" + std::to_string(percent) + ", seed " +
                    std::to_string(options.seed);
    }
    for (auto &[label, images] : trainByClass) {
        if (options.perClass > 0 && static_cast<int>(images.size()) > options.perClass) {
            std::shuffle(images.begin(), images.end(), rng);
            images.resize(static_cast<size_t>(options.perClass));
        }
        split.train.insert(split.train.end(), images.begin(), images.end());
    }
    if (options.perClass > 0)
        split.how += ", " + std::to_string(options.perClass) + " training images per class";
    std::sort(split.train.begin(), split.train.end());
    std::sort(split.test.begin(), split.test.end());
    if (split.train.empty() || split.test.empty())
        throw DataError("the probe's " + std::string(split.train.empty() ? "training" : "test") +
                        " split is empty (" + std::to_string(labels.size()) + " images)");
    return split;
}

} // namespace convscope
