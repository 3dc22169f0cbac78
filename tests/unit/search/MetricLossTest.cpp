// Triplet and contrastive losses with their mining, against PyTorch (tests/fixtures/make_metric_loss_reference.py).
#include "CatchTorch.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "search/MetricLoss.h"
#include "TestPaths.h"

#include <torch/torch.h>

#include <cstdio>

using namespace convscope;

namespace {

std::string reference(const std::string &name) { return testpaths::fixtures() + "/metric_loss/" + name; }

} // namespace

TEST_CASE("metric losses, their mining and gradients equal PyTorch", "[search][adapt]")
{
    const torch::Tensor embeddings = NpyFile::read(reference("embeddings.npy")).to(torch::kFloat32);
    const torch::Tensor labels = NpyFile::read(reference("labels.npy")).to(torch::kInt64);
    std::mt19937_64 rng(1);
    int cases = 0;
    for (auto [kind, margin] : {std::pair{MetricLoss::Kind::Triplet, 0.2f}, {MetricLoss::Kind::Triplet, 1.0f},
                                {MetricLoss::Kind::Contrastive, 0.7f}, {MetricLoss::Kind::Contrastive, 1.2f}})
        for (auto mining : {MetricLoss::Mining::Hard, MetricLoss::Mining::SemiHard, MetricLoss::Mining::Random}) {
            char stem[96];
            std::snprintf(stem, sizeof stem, "%s_%g_%s", MetricLoss::kindName(kind), static_cast<double>(margin),
                          MetricLoss::miningName(mining));
            INFO(stem);
            const MetricLoss loss({kind, margin, mining});
            const torch::Tensor expected = NpyFile::read(reference(std::string(stem) + "_triplets.npy"));
            MetricLoss::Triplets triplets = loss.mine(embeddings, labels, rng);
            REQUIRE(triplets.size() == expected.size(1));
            CHECK(torch::equal(triplets.anchor, expected[0].to(torch::kInt64)));
            CHECK(torch::equal(triplets.positive, expected[1].to(torch::kInt64)));
            if (mining != MetricLoss::Mining::Random)
                CHECK(torch::equal(triplets.negative, expected[2].to(torch::kInt64)));
            else { // other generators draw other negatives: score PyTorch's set, and check ours are negatives
                CHECK(torch::all(labels.index_select(0, triplets.negative) !=
                                 labels.index_select(0, triplets.anchor))
                          .item<bool>());
                triplets.negative = expected[2].to(torch::kInt64);
            }
            const torch::Tensor e = embeddings.clone().set_requires_grad(true);
            const torch::Tensor value = loss.loss(e, triplets);
            value.backward();
            const double want = NpyFile::read(reference(std::string(stem) + "_loss.npy")).item<double>();
            CHECK(value.item<double>() == Approx(want).epsilon(1e-5));
            const torch::Tensor grad = NpyFile::read(reference(std::string(stem) + "_grad.npy")).to(torch::kFloat32);
            CHECK(torch::allclose(e.grad(), grad, 1e-4, 1e-6));
            ++cases;
        }
    CHECK(cases == 12);
}

TEST_CASE("metric losses: a batch of one class has no triplets and a zero loss", "[search][adapt]")
{
    const MetricLoss loss(MetricLoss::Options{});
    std::mt19937_64 rng(1);
    const torch::Tensor e = torch::randn({6, 4}).set_requires_grad(true);
    const auto t = loss.mine(e, torch::zeros({6}, torch::kInt64), rng);
    CHECK(t.size() == 0);
    const torch::Tensor v = loss.loss(e, t);
    CHECK(v.item<double>() == 0.0);
    v.backward(); // still attached to the embeddings
    CHECK(e.grad().abs().sum().item<double>() == 0.0);
    CHECK(loss.margin() == Approx(MetricLoss::defaultMargin(MetricLoss::Kind::Contrastive)));
    CHECK_THROWS_AS(MetricLoss::parseMining("hardest"), UsageError);
    CHECK_THROWS_AS(MetricLoss::parseKind("arcface"), UsageError);
}
