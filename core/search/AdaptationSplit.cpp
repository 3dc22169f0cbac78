#include "search/AdaptationSplit.h"

#include "common/Error.h"

#include <QString>
#include <QStringList>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace convscope {

AdaptationSplit::AdaptationSplit(const std::vector<int> &labels, const std::vector<bool> &usable, Options options)
    : labels_(labels), roles_(labels.size(), Role::Unused), options_(std::move(options))
{
    if (usable.size() != labels.size())
        throw UsageError("one usable flag per image expected");
    std::map<int, std::vector<std::int64_t>> byClass;
    for (size_t i = 0; i < labels.size(); ++i)
        if (labels[i] >= 0 && usable[i])
            byClass[labels[i]].push_back(static_cast<std::int64_t>(i));
    if (byClass.empty())
        throw DataError("the dataset has no labels: adaptation learns from classes (class folders or an IDX "
                        "label file)");
    if (byClass.size() < 2)
        throw DataError("the dataset has a single class: adaptation needs images of at least 2 classes");
    if (!options_.trainClasses.empty()) {
        const std::set<int> train(options_.trainClasses.begin(), options_.trainClasses.end());
        for (const auto &c : byClass)
            for (auto i : c.second)
                roles_[static_cast<size_t>(i)] = train.count(c.first) ? Role::Train : Role::Test;
    } else {
        if (!(options_.trainFraction > 0 && options_.trainFraction < 1))
            throw UsageError("the training fraction must lie between 0 and 1 (exclusive)");
        std::mt19937_64 rng(options_.seed);
        for (auto &c : byClass) {
            std::shuffle(c.second.begin(), c.second.end(), rng);
            const auto n = static_cast<std::int64_t>(c.second.size());
            auto train = static_cast<std::int64_t>(std::llround(options_.trainFraction * static_cast<double>(n)));
            if (n >= 2)
                train = std::clamp<std::int64_t>(train, 1, n - 1);
            for (std::int64_t k = 0; k < n; ++k)
                roles_[static_cast<size_t>(c.second[static_cast<size_t>(k)])] = k < train ? Role::Train : Role::Test;
        }
    }
    for (Role r : {Role::Train, Role::Test}) {
        std::set<int> classes;
        for (size_t i = 0; i < roles_.size(); ++i)
            if (roles_[i] == r)
                classes.insert(labels_[i]);
        if (classes.size() < 2)
            throw DataError(std::string("the split leaves ") + (r == Role::Train ? "training" : "testing") +
                            " with " + std::to_string(classes.size()) +
                            " class(es); both parts need at least 2 (" + describe() + ")");
    }
}

std::vector<std::int64_t> AdaptationSplit::rows(Role role) const
{
    std::vector<std::int64_t> out;
    for (size_t i = 0; i < roles_.size(); ++i)
        if (roles_[i] == role)
            out.push_back(static_cast<std::int64_t>(i));
    return out;
}

std::vector<int> AdaptationSplit::testLabels() const
{
    std::vector<int> out(labels_.size(), -1);
    for (size_t i = 0; i < roles_.size(); ++i)
        if (roles_[i] == Role::Test)
            out[i] = labels_[i];
    return out;
}

std::string AdaptationSplit::describe() const
{
    std::string text;
    for (Role r : {Role::Train, Role::Test}) {
        std::set<int> classes;
        std::int64_t n = 0;
        for (size_t i = 0; i < roles_.size(); ++i)
            if (roles_[i] == r) {
                classes.insert(labels_[i]);
                ++n;
            }
        text += std::string(text.empty() ? "" : "; ") + (r == Role::Train ? "train" : "test") + ": classes " +
                formatClasses({classes.begin(), classes.end()}) +
                (r == Role::Test && !options_.trainClasses.empty() ? " (unseen)" : "") + ", " + std::to_string(n) +
                " images";
    }
    return text;
}

std::vector<int> AdaptationSplit::parseClasses(const std::string &text)
{
    std::set<int> out;
    for (const QString &part : QString::fromStdString(text).split(',', Qt::SkipEmptyParts)) {
        const QStringList ends = part.trimmed().split('-');
        bool ok1 = false, ok2 = true;
        const int a = ends.value(0).trimmed().toInt(&ok1);
        const int b = ends.size() == 2 ? ends[1].trimmed().toInt(&ok2) : a;
        if (!ok1 || !ok2 || ends.size() > 2 || a < 0 || b < a || b - a > 1000000)
            throw UsageError("cannot read classes '" + text + "' (write them like 0-4 or 0,2,5-7)");
        for (int c = a; c <= b; ++c)
            out.insert(c);
    }
    if (out.empty())
        throw UsageError("no classes in '" + text + "'");
    return {out.begin(), out.end()};
}

std::string AdaptationSplit::formatClasses(std::vector<int> classes)
{
    std::sort(classes.begin(), classes.end());
    std::string out;
    for (size_t i = 0; i < classes.size();) {
        size_t j = i;
        while (j + 1 < classes.size() && classes[j + 1] == classes[j] + 1)
            ++j;
        out += (out.empty() ? "" : ",") + std::to_string(classes[i]) +
               (j > i ? "-" + std::to_string(classes[j]) : std::string());
        i = j + 1;
    }
    return out.empty() ? "none" : out;
}

} // namespace convscope
