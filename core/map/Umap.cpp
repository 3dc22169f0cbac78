#include "map/Umap.h"

#include "common/Error.h"
#include "map/KnnGraph.h"
#include "map/SymmetricGraph.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace convscope {

namespace {

constexpr std::int64_t kBlock = 1024;    ///< points per SGD block (fixed: results do not depend on the thread count)
constexpr std::int64_t kRoundSize = 32;  ///< a block's points per round (kBlock / kRoundSize rounds per epoch)

/// SplitMix64: a small, fast random stream; one per (seed, epoch, block).
class RandomStream {
public:
    RandomStream(std::uint64_t seed, std::uint64_t epoch, std::uint64_t block)
        : state_(seed * 0x9E3779B97F4A7C15ull ^ (epoch + 1) * 0xBF58476D1CE4E5B9ull ^ (block + 1) * 0x94D049BB133111EBull)
    {
    }
    std::uint64_t next()
    {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t state_;
};

inline float clip4(float v)
{
    return std::clamp(v, -4.0f, 4.0f);
}

} // namespace

Umap::Umap(const torch::Tensor &xIn, Options options) : options_(options)
{
    if (xIn.dim() != 2 || xIn.size(0) < 4)
        throw UsageError("UMAP needs at least 4 points");
    if (options_.dimensions != 2 && options_.dimensions != 3)
        throw UsageError("UMAP maps to 2 or 3 dimensions");
    if (options_.neighbours < 2)
        throw UsageError("UMAP needs at least 2 neighbours");
    const torch::Tensor x = xIn.to(torch::kFloat32).contiguous();
    if (x.isnan().any().item<bool>())
        throw UsageError("UMAP input holds NaN rows (skipped images): leave them out first");
    n_ = x.size(0);
    dims_ = options_.dimensions;
    epochs_ = options_.epochs > 0 ? options_.epochs : (n_ <= 10000 ? 500 : 200);
    std::tie(a_, b_) = fitCurve(options_.spread, options_.minDist);
    fuzzyGraph(x);
    spectralStart();
    // Edge sampling schedule: an edge of weight w every max(w) / w epochs.
    const float maxWeight = weights_.empty() ? 1.0f : *std::max_element(weights_.begin(), weights_.end());
    epochsPerSample_.resize(weights_.size());
    for (std::size_t e = 0; e < weights_.size(); ++e)
        epochsPerSample_[e] = maxWeight / weights_[e];
    nextSample_ = epochsPerSample_;
    nextNegative_.resize(weights_.size());
    for (std::size_t e = 0; e < weights_.size(); ++e)
        nextNegative_[e] = epochsPerSample_[e] / options_.negativeSampleRate;
}

std::pair<double, double> Umap::fitCurve(double spread, double minDist)
{
    constexpr int kSamples = 300;
    std::vector<double> xs(kSamples), ys(kSamples);
    for (int s = 0; s < kSamples; ++s) {
        xs[s] = 3.0 * spread * s / (kSamples - 1);
        ys[s] = xs[s] < minDist ? 1.0 : std::exp(-(xs[s] - minDist) / spread);
    }
    auto residual = [&](double a, double b) {
        double r = 0;
        for (int s = 0; s < kSamples; ++s) {
            const double f = 1.0 / (1.0 + a * std::pow(xs[s], 2 * b));
            r += (f - ys[s]) * (f - ys[s]);
        }
        return r;
    };
    double a = 1, b = 1, lambda = 1e-3, current = residual(a, b);
    for (int it = 0; it < 500; ++it) {
        // Normal equations JᵀJ δ = −Jᵀr, damped (Levenberg-Marquardt).
        double jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
        for (int s = 0; s < kSamples; ++s) {
            if (xs[s] <= 0)
                continue;
            const double u = std::pow(xs[s], 2 * b), den = 1.0 + a * u, f = 1.0 / den;
            const double da = -u / (den * den), db = -a * u * 2.0 * std::log(xs[s]) / (den * den);
            const double r = f - ys[s];
            jaa += da * da, jab += da * db, jbb += db * db, ga += da * r, gb += db * r;
        }
        const double maa = jaa * (1 + lambda), mbb = jbb * (1 + lambda), det = maa * mbb - jab * jab;
        if (std::abs(det) < 1e-300)
            break;
        const double stepA = -(mbb * ga - jab * gb) / det, stepB = -(maa * gb - jab * ga) / det;
        const double na = std::max(a + stepA, 1e-6), nb = std::max(b + stepB, 1e-6), next = residual(na, nb);
        if (next < current) {
            const bool converged = current - next < 1e-14 * std::max(1.0, current);
            a = na, b = nb, current = next, lambda = std::max(lambda / 3, 1e-12);
            if (converged)
                break;
        } else {
            lambda *= 4;
            if (lambda > 1e12)
                break;
        }
    }
    return {a, b};
}

void Umap::fuzzyGraph(const torch::Tensor &x)
{
    const KnnGraph graph(x, options_.neighbours - 1, options_.exactNeighboursBelow);
    const int k = graph.k();
    const double target = std::log2(static_cast<double>(options_.neighbours));
    double meanAll = 0;
    for (std::int64_t i = 0; i < n_; ++i)
        for (int j = 0; j < k; ++j)
            if (graph.id(i, j) >= 0)
                meanAll += std::sqrt(graph.distance(i, j));
    meanAll /= static_cast<double>(n_) * (k + 1);
    // Directed memberships: 1 up to the nearest neighbour, then exp(−(d − ρ) / σ).
    std::vector<float> member(static_cast<std::size_t>(n_ * k), 0.0f);
    at::parallel_for(0, n_, 256, [&](std::int64_t from, std::int64_t to) {
        std::vector<double> d(static_cast<std::size_t>(k));
        for (std::int64_t i = from; i < to; ++i) {
            double rho = 0, sum = 0;
            for (int j = 0; j < k; ++j) {
                d[static_cast<std::size_t>(j)] = graph.id(i, j) >= 0 ? std::sqrt(graph.distance(i, j)) : INFINITY;
                if (rho == 0 && d[static_cast<std::size_t>(j)] > 0 && std::isfinite(d[static_cast<std::size_t>(j)]))
                    rho = d[static_cast<std::size_t>(j)];
                if (std::isfinite(d[static_cast<std::size_t>(j)]))
                    sum += d[static_cast<std::size_t>(j)];
            }
            double lo = 0, hi = INFINITY, sigma = 1;
            for (int it = 0; it < 64; ++it) {
                double psum = 0;
                for (int j = 0; j < k; ++j) {
                    const double over = d[static_cast<std::size_t>(j)] - rho;
                    psum += over > 0 ? std::exp(-over / sigma) : 1.0;
                }
                if (std::abs(psum - target) < 1e-5)
                    break;
                if (psum > target) {
                    hi = sigma;
                    sigma = (lo + hi) / 2;
                } else {
                    lo = sigma;
                    sigma = std::isinf(hi) ? sigma * 2 : (lo + hi) / 2;
                }
            }
            const double meanHere = sum / (k + 1);
            sigma = std::max(sigma, 1e-3 * (rho > 0 ? meanHere : meanAll));
            for (int j = 0; j < k; ++j) {
                if (graph.id(i, j) < 0)
                    continue;
                const double over = d[static_cast<std::size_t>(j)] - rho;
                member[static_cast<std::size_t>(i * k + j)] =
                    static_cast<float>(over <= 0 || sigma == 0 ? 1.0 : std::exp(-over / sigma));
            }
        }
    });
    // Fuzzy union of both directions: a pair found both ways merges as a + b − a·b.
    const auto fuzzy = SymmetricGraph<float>::build(
        n_, k, [&](std::int64_t i, int j) { return graph.id(i, j); },
        [&](std::int64_t i, int j) { return member[static_cast<std::size_t>(i * k + j)]; },
        [](float a, float b) { return a + b - a * b; });
    // Edges too weak to be sampled even once in the run are dropped (as umap-learn).
    const float maxWeight = fuzzy.values.empty() ? 0.0f : *std::max_element(fuzzy.values.begin(), fuzzy.values.end());
    const float floor = maxWeight / static_cast<float>(epochs_);
    rowStart_.assign(static_cast<std::size_t>(n_ + 1), 0);
    cols_.clear();
    weights_.clear();
    cols_.reserve(fuzzy.cols.size());
    weights_.reserve(fuzzy.cols.size());
    for (std::int64_t i = 0; i < n_; ++i) {
        for (std::int64_t e = fuzzy.rowStart[static_cast<std::size_t>(i)]; e < fuzzy.rowStart[static_cast<std::size_t>(i + 1)]; ++e) {
            const float w = fuzzy.values[static_cast<std::size_t>(e)];
            if (w >= floor && w > 0) {
                cols_.push_back(fuzzy.cols[static_cast<std::size_t>(e)]);
                weights_.push_back(w);
            }
        }
        rowStart_[static_cast<std::size_t>(i + 1)] = static_cast<std::int64_t>(cols_.size());
    }
}

void Umap::spectralStart()
{
    // Leading eigenvectors of S = D^−½ W D^−½ (the smallest of the normalised Laplacian I − S), found by block
    // subspace iteration on (I + S) / 2, whose spectrum lies in [0, 1], with the trivial vector √d deflated.
    const int m = std::min<std::int64_t>(dims_ + 6, n_ - 1);
    std::vector<double> invSqrtDegree(static_cast<std::size_t>(n_));
    torch::Tensor trivial = torch::empty({n_}, torch::kFloat64);
    for (std::int64_t i = 0; i < n_; ++i) {
        double degree = 0;
        for (std::int64_t e = rowStart_[static_cast<std::size_t>(i)]; e < rowStart_[static_cast<std::size_t>(i + 1)]; ++e)
            degree += weights_[static_cast<std::size_t>(e)];
        invSqrtDegree[static_cast<std::size_t>(i)] = degree > 0 ? 1.0 / std::sqrt(degree) : 0.0;
        trivial[i] = std::sqrt(degree);
    }
    trivial = (trivial / trivial.norm().clamp_min(1e-300)).unsqueeze(1);
    auto apply = [&](const torch::Tensor &v) { // (I + S) v / 2, v: N×m row-major
        torch::Tensor out = torch::empty_like(v);
        const double *in = v.data_ptr<double>();
        double *o = out.data_ptr<double>();
        at::parallel_for(0, n_, 1024, [&](std::int64_t from, std::int64_t to) {
            std::vector<double> acc(static_cast<std::size_t>(m));
            for (std::int64_t i = from; i < to; ++i) {
                std::fill(acc.begin(), acc.end(), 0.0);
                for (std::int64_t e = rowStart_[static_cast<std::size_t>(i)]; e < rowStart_[static_cast<std::size_t>(i + 1)]; ++e) {
                    const std::int64_t j = cols_[static_cast<std::size_t>(e)];
                    const double w = weights_[static_cast<std::size_t>(e)] * invSqrtDegree[static_cast<std::size_t>(j)];
                    for (int c = 0; c < m; ++c)
                        acc[static_cast<std::size_t>(c)] += w * in[j * m + c];
                }
                for (int c = 0; c < m; ++c)
                    o[i * m + c] = 0.5 * (in[i * m + c] + invSqrtDegree[static_cast<std::size_t>(i)] * acc[static_cast<std::size_t>(c)]);
            }
        });
        return out;
    };
    auto generator = at::make_generator<at::CPUGeneratorImpl>(options_.seed);
    torch::Tensor basis = torch::randn({n_, m}, generator, torch::kFloat64);
    torch::Tensor ritz, previous;
    // Re-orthonormalised every 5 steps (enough: the spectrum lies in [0, 1]); converged when the Ritz values move
    // less than 1e-6 between checks (umap-learn's eigsh uses a tolerance of 1e-4).
    constexpr int kMaxSteps = 300;
    for (int it = 0; it < kMaxSteps; ++it) {
        if (it % 5 == 0) {
            basis = basis - trivial.mm(trivial.t().mm(basis));
            basis = std::get<0>(torch::linalg_qr(basis));
        }
        const torch::Tensor image = apply(basis);
        if (it % 10 == 0) { // right after re-orthonormalising
            torch::Tensor small = basis.t().mm(image);
            small = (small + small.t()) / 2;
            auto [values, vectors] = torch::linalg_eigh(small);
            ritz = basis.mm(vectors.flip(1).slice(1, 0, dims_));
            if (previous.defined() &&
                (values.slice(0, m - dims_) - previous).abs().max().item<double>() < 1e-6)
                break;
            previous = values.slice(0, m - dims_).clone();
        }
        basis = image;
    }
    // Scale as umap-learn: largest coordinate 10, a little noise, then each axis into [0, 10].
    torch::Tensor start = ritz * (10.0 / ritz.abs().max().clamp_min(1e-300));
    start = start + 1e-4 * torch::randn({n_, dims_}, generator, torch::kFloat64);
    const torch::Tensor lo = std::get<0>(start.min(0)), hi = std::get<0>(start.max(0));
    start = 10.0 * (start - lo) / (hi - lo).clamp_min(1e-12);
    start = start.to(torch::kFloat32).contiguous();
    y_.assign(start.data_ptr<float>(), start.data_ptr<float>() + n_ * dims_);
}

void Umap::run(int epochs)
{
    for (int s = 0; s < epochs && !done(); ++s) {
        epoch();
        ++epoch_;
    }
}

void Umap::epoch()
{
    const float alpha = static_cast<float>(options_.learningRate * (1.0 - static_cast<double>(epoch_) / epochs_));
    const float a = static_cast<float>(a_), b = static_cast<float>(b_);
    const float gamma = static_cast<float>(options_.repulsionStrength);
    const auto n = static_cast<std::uint64_t>(n_);
    const int dims = dims_;
    const auto now = static_cast<float>(epoch_);
    snapshot_ = y_;
    // Round-major order: round r of every block runs in parallel, then round r + 1. A point reads the positions of
    // points of earlier rounds as they are now (final for this epoch) and all others as they were when the epoch
    // began — as a sequential pass in this order would, except for points of the same round in other blocks.
    auto position = [&](std::int64_t j, int round) -> const float * {
        return (j % kBlock) / kRoundSize < round ? &y_[static_cast<std::size_t>(j * dims)]
                                                : &snapshot_[static_cast<std::size_t>(j * dims)];
    };
    const std::int64_t blocks = (n_ + kBlock - 1) / kBlock;
    for (int round = 0; round < kBlock / kRoundSize; ++round) {
        at::parallel_for(0, blocks, 1, [&](std::int64_t fromBlock, std::int64_t toBlock) {
            for (std::int64_t block = fromBlock; block < toBlock; ++block) {
                RandomStream random(options_.seed, static_cast<std::uint64_t>(epoch_),
                                    static_cast<std::uint64_t>(block * (kBlock / kRoundSize) + round));
                const std::int64_t begin = block * kBlock + round * kRoundSize;
                const std::int64_t end = std::min(n_, begin + kRoundSize);
                for (std::int64_t i = begin; i < end; ++i) {
                    float *current = &y_[static_cast<std::size_t>(i * dims)];
                    for (std::int64_t e = rowStart_[static_cast<std::size_t>(i)]; e < rowStart_[static_cast<std::size_t>(i + 1)]; ++e) {
                        const auto edge = static_cast<std::size_t>(e);
                        if (nextSample_[edge] > now)
                            continue;
                        const float *other = position(cols_[edge], round);
                        float d2 = 0;
                        for (int c = 0; c < dims; ++c)
                            d2 += (current[c] - other[c]) * (current[c] - other[c]);
                        if (d2 > 0) {
                            const float powB = std::pow(d2, b);
                            const float coeff = -2.0f * a * b * powB / d2 / (a * powB + 1.0f);
                            // The head's own pull only; the tail moves in its own turn (see the header).
                            for (int c = 0; c < dims; ++c)
                                current[c] += alpha * clip4(coeff * (current[c] - other[c]));
                        }
                        nextSample_[edge] += epochsPerSample_[edge];
                        const float perNegative = epochsPerSample_[edge] / static_cast<float>(options_.negativeSampleRate);
                        const int negatives = std::max(0, static_cast<int>((now - nextNegative_[edge]) / perNegative));
                        for (int p = 0; p < negatives; ++p) {
                            const auto k = static_cast<std::int64_t>(random.next() % n);
                            if (k == i)
                                continue;
                            const float *away = position(k, round);
                            float q2 = 0;
                            for (int c = 0; c < dims; ++c)
                                q2 += (current[c] - away[c]) * (current[c] - away[c]);
                            const float coeff =
                                q2 > 0 ? 2.0f * gamma * b / ((0.001f + q2) * (a * std::pow(q2, b) + 1.0f)) : 0.0f;
                            for (int c = 0; c < dims; ++c)
                                current[c] += alpha * (coeff > 0 ? clip4(coeff * (current[c] - away[c])) : 4.0f);
                        }
                        nextNegative_[edge] += static_cast<float>(negatives) * perNegative;
                    }
                }
            }
        });
    }
}

torch::Tensor Umap::embedding() const
{
    return torch::from_blob(const_cast<float *>(y_.data()), {n_, dims_}, torch::kFloat32).clone();
}

double Umap::weight(std::int64_t i, std::int64_t j) const
{
    const auto first = cols_.begin() + rowStart_[static_cast<std::size_t>(i)];
    const auto last = cols_.begin() + rowStart_[static_cast<std::size_t>(i + 1)];
    const auto it = std::lower_bound(first, last, j);
    return it != last && *it == j ? weights_[static_cast<std::size_t>(it - cols_.begin())] : 0.0;
}

} // namespace convscope
