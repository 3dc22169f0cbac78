#include "search/MetricLoss.h"

#include "common/Error.h"

#include <torch/torch.h>

#include <limits>
#include <vector>

namespace convscope {

float MetricLoss::defaultMargin(Kind kind) { return kind == Kind::Triplet ? 0.2f : 0.7f; }

const char *MetricLoss::kindName(Kind kind) { return kind == Kind::Triplet ? "triplet" : "contrastive"; }

const char *MetricLoss::miningName(Mining mining)
{
    switch (mining) {
    case Mining::Hard: return "hard";
    case Mining::SemiHard: return "semihard";
    case Mining::Random: return "random";
    }
    return "?";
}

MetricLoss::Kind MetricLoss::parseKind(const std::string &name)
{
    for (Kind k : {Kind::Triplet, Kind::Contrastive})
        if (name == kindName(k))
            return k;
    throw UsageError("unknown loss '" + name + "' (use triplet or contrastive)");
}

MetricLoss::Mining MetricLoss::parseMining(const std::string &name)
{
    for (Mining m : {Mining::Hard, Mining::SemiHard, Mining::Random})
        if (name == miningName(m))
            return m;
    throw UsageError("unknown mining '" + name + "' (use hard, semihard or random)");
}

MetricLoss::MetricLoss(Options options)
    : options_(options), margin_(options.margin > 0 ? options.margin : defaultMargin(options.kind))
{
}

MetricLoss::Triplets MetricLoss::mine(const torch::Tensor &embeddings, const torch::Tensor &labels,
                                      std::mt19937_64 &rng) const
{
    if (embeddings.dim() != 2 || labels.dim() != 1 || labels.size(0) != embeddings.size(0))
        throw UsageError("mining needs a B×d batch of embeddings and B labels");
    const torch::Tensor e = embeddings.detach().to(torch::kFloat32);
    const torch::Tensor d = torch::cdist(e, e).pow(2).contiguous(); // squared distances, B×B
    const torch::Tensor l = labels.to(torch::kInt64).contiguous();
    const std::int64_t b = e.size(0);
    const float *dist = d.data_ptr<float>();
    const std::int64_t *lab = l.data_ptr<std::int64_t>();
    std::vector<std::int64_t> a, p, n;
    std::vector<std::int64_t> negatives;
    for (std::int64_t i = 0; i < b; ++i) {
        negatives.clear();
        for (std::int64_t j = 0; j < b; ++j)
            if (lab[j] != lab[i])
                negatives.push_back(j);
        if (negatives.empty())
            continue;
        const float *row = dist + i * b;
        for (std::int64_t j = 0; j < b; ++j) {
            if (j == i || lab[j] != lab[i])
                continue;
            std::int64_t pick = -1;
            if (options_.mining == Mining::Random) {
                pick = negatives[std::uniform_int_distribution<size_t>(0, negatives.size() - 1)(rng)];
            } else {
                float best = std::numeric_limits<float>::infinity(), farthest = -1;
                std::int64_t far = -1;
                for (std::int64_t k : negatives) {
                    const bool eligible = options_.mining == Mining::Hard || row[k] > row[j];
                    if (eligible && row[k] < best) {
                        best = row[k];
                        pick = k;
                    }
                    if (row[k] > farthest) {
                        farthest = row[k];
                        far = k;
                    }
                }
                if (pick < 0)
                    pick = far;
            }
            a.push_back(i);
            p.push_back(j);
            n.push_back(pick);
        }
    }
    Triplets t;
    t.anchor = torch::tensor(a, torch::kInt64);
    t.positive = torch::tensor(p, torch::kInt64);
    t.negative = torch::tensor(n, torch::kInt64);
    return t;
}

torch::Tensor MetricLoss::terms(const torch::Tensor &embeddings, const Triplets &t) const
{
    const torch::Tensor ea = embeddings.index_select(0, t.anchor);
    const torch::Tensor ap = (ea - embeddings.index_select(0, t.positive)).pow(2).sum(1);
    const torch::Tensor an = (ea - embeddings.index_select(0, t.negative)).pow(2).sum(1);
    if (options_.kind == Kind::Triplet)
        return (ap - an + margin_).clamp_min(0);
    // ½‖a−p‖² + ½ max(0, τ − ‖a−n‖)²; the square root is kept off 0 (its gradient there is infinite).
    return 0.5 * ap + 0.5 * (margin_ - an.clamp_min(1e-12).sqrt()).clamp_min(0).pow(2);
}

torch::Tensor MetricLoss::loss(const torch::Tensor &embeddings, const Triplets &triplets) const
{
    if (triplets.size() == 0)
        return embeddings.sum() * 0;
    return terms(embeddings, triplets).mean();
}

double MetricLoss::activeFraction(const torch::Tensor &embeddings, const Triplets &triplets) const
{
    if (triplets.size() == 0)
        return 0;
    torch::NoGradGuard noGrad;
    const torch::Tensor e = embeddings.detach();
    if (options_.kind == Kind::Triplet)
        return terms(e, triplets).gt(0).to(torch::kFloat64).mean().item<double>();
    const torch::Tensor an = (e.index_select(0, triplets.anchor) - e.index_select(0, triplets.negative))
                                 .pow(2)
                                 .sum(1)
                                 .sqrt();
    return an.lt(margin_).to(torch::kFloat64).mean().item<double>();
}

} // namespace convscope
