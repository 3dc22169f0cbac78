// Which images train and which test an adapted descriptor: unseen classes and ordinary splits, bad datasets.
#include "CatchTorch.h"

#include "common/Error.h"
#include "search/AdaptationSplit.h"

#include <set>

using namespace convscope;

TEST_CASE("an unseen-class split tests on the classes it does not train on", "[search][adapt]")
{
    std::vector<int> labels;
    for (int i = 0; i < 100; ++i)
        labels.push_back(i % 10);
    labels[3] = -1; // unlabelled: unused
    std::vector<bool> usable(labels.size(), true);
    usable[4] = false; // no features: unused
    AdaptationSplit::Options o;
    o.trainClasses = AdaptationSplit::parseClasses("0-4");
    const AdaptationSplit split(labels, usable, o);
    for (auto r : split.rows(AdaptationSplit::Role::Train))
        CHECK(labels[static_cast<size_t>(r)] <= 4);
    for (auto r : split.rows(AdaptationSplit::Role::Test))
        CHECK(labels[static_cast<size_t>(r)] >= 5);
    CHECK(split.rows(AdaptationSplit::Role::Train).size() == 48);
    CHECK(split.rows(AdaptationSplit::Role::Test).size() == 50);
    CHECK(split.role(3) == AdaptationSplit::Role::Unused);
    CHECK(split.role(4) == AdaptationSplit::Role::Unused);
    CHECK(split.testLabels()[0] == -1);
    CHECK(split.testLabels()[5] == 5);
    CHECK(split.describe() == "train: classes 0-4, 48 images; test: classes 5-9 (unseen), 50 images");
}

TEST_CASE("an ordinary split keeps every class on both sides, seeded", "[search][adapt]")
{
    std::vector<int> labels;
    for (int i = 0; i < 200; ++i)
        labels.push_back(i % 4);
    const std::vector<bool> usable(labels.size(), true);
    AdaptationSplit::Options o;
    o.trainFraction = 0.25;
    const AdaptationSplit a(labels, usable, o), b(labels, usable, o);
    CHECK(a.rows(AdaptationSplit::Role::Train) == b.rows(AdaptationSplit::Role::Train));
    CHECK(a.rows(AdaptationSplit::Role::Train).size() == 52); // round(0.25 × 50) = 13 per class
    std::set<int> trained, tested;
    for (auto r : a.rows(AdaptationSplit::Role::Train))
        trained.insert(labels[static_cast<size_t>(r)]);
    for (auto r : a.rows(AdaptationSplit::Role::Test))
        tested.insert(labels[static_cast<size_t>(r)]);
    CHECK(trained.size() == 4);
    CHECK(tested.size() == 4);
    o.seed = 2;
    CHECK(AdaptationSplit(labels, usable, o).rows(AdaptationSplit::Role::Train) != a.rows(AdaptationSplit::Role::Train));
}

TEST_CASE("splits refuse datasets that cannot be adapted, with a reason", "[search][adapt]")
{
    const std::vector<bool> usable(6, true);
    CHECK_THROWS_WITH(AdaptationSplit(std::vector<int>(6, -1), usable, {}), Catch::Contains("no labels"));
    CHECK_THROWS_WITH(AdaptationSplit(std::vector<int>(6, 2), usable, {}), Catch::Contains("single class"));
    AdaptationSplit::Options unseen;
    unseen.trainClasses = {0, 1};
    CHECK_THROWS_WITH(AdaptationSplit({0, 1, 2, 0, 1, 2}, usable, unseen), Catch::Contains("testing with 1 class"));
    AdaptationSplit::Options fraction;
    fraction.trainFraction = 1.5;
    CHECK_THROWS_AS(AdaptationSplit({0, 1, 0, 1, 0, 1}, usable, fraction), UsageError);
    CHECK_THROWS_AS(AdaptationSplit::parseClasses("4-2"), UsageError);
    CHECK_THROWS_AS(AdaptationSplit::parseClasses("a"), UsageError);
    CHECK(AdaptationSplit::parseClasses("0,2,5-7") == std::vector<int>{0, 2, 5, 6, 7});
    CHECK(AdaptationSplit::formatClasses({7, 0, 5, 6, 2}) == "0,2,5-7");
}
