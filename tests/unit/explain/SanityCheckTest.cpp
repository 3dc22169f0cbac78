// The sanity check's rank correlation (Spearman, ties get average ranks).
#include "CatchTorch.h"

#include "model/Model.h"
#include "common/NpyFile.h"
#include "explain/Reconstructor.h"
#include "explain/SanityCheck.h"
#include "TestPaths.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <ATen/Parallel.h>

using namespace convscope;

TEST_CASE("Spearman rank correlation with ties", "[explain][reconstruct][sanity]")
{
    const auto t = [](std::vector<float> v) { return torch::tensor(v); };
    CHECK(SanityCheck::spearman(t({1, 2, 3, 4}), t({1, 3, 2, 4})) == Approx(0.8));
    CHECK(SanityCheck::spearman(t({1, 2, 3, 4}), t({4, 3, 2, 1})) == Approx(-1.0));
    // Ties get average ranks: a = (3.5, 3.5, 5, 6, 1.5, 1.5) — value checked with scipy.stats.spearmanr.
    CHECK(SanityCheck::spearman(t({1, 1, 2, 3, 0, 0}), t({1, 2, 3, 4, 0, 5})) == Approx(0.26482).margin(1e-4));
    CHECK(SanityCheck::spearman(t({1, 1, 1}), t({1, 2, 3})) == 0.0);
}
