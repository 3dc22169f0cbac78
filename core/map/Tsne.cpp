#include "map/Tsne.h"

#include "common/Error.h"
#include "map/KnnGraph.h"
#include "map/FftRepulsion.h"
#include "map/QuadTree.h"
#include "map/SymmetricGraph.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace convscope {

Tsne::Tsne(const torch::Tensor &xIn, Options options) : options_(options)
{
    if (xIn.dim() != 2 || xIn.size(0) < 4)
        throw UsageError("t-SNE needs at least 4 points");
    const torch::Tensor x = xIn.to(torch::kFloat32).contiguous();
    if (x.isnan().any().item<bool>())
        throw UsageError("t-SNE input holds NaN rows (skipped images): leave them out first");
    n_ = x.size(0);
    affinities(x);
    // Start from the first two principal components, scaled to a standard deviation of 1e-4.
    const torch::Tensor centred = (x - x.mean(0)).to(torch::kFloat64);
    // Principal axes from the D×D covariance (cheap for millions of points): eigh sorts eigenvalues ascending.
    const torch::Tensor axes = std::get<1>(torch::linalg_eigh(centred.t().mm(centred))).flip(1).slice(1, 0, 2);
    torch::Tensor start = centred.mm(axes);
    start = start / start.select(1, 0).std().clamp_min(1e-12) * 1e-4;
    start = start.contiguous();
    y_.assign(start.data_ptr<double>(), start.data_ptr<double>() + 2 * n_);
    update_.assign(static_cast<std::size_t>(2 * n_), 0.0);
    gains_.assign(static_cast<std::size_t>(2 * n_), 1.0);
}

void Tsne::affinities(const torch::Tensor &x)
{
    const int k = static_cast<int>(std::min<std::int64_t>(n_ - 1, static_cast<std::int64_t>(3 * options_.perplexity)));
    const KnnGraph graph(x, k, options_.exactNeighboursBelow);
    // Conditional p(j|i) over the k neighbours (self dropped), bandwidth by bisection to the perplexity.
    std::vector<double> cond(static_cast<std::size_t>(n_ * k));
    std::vector<std::int64_t> neighbour(static_cast<std::size_t>(n_ * k));
    const double target = std::log(options_.perplexity);
    at::parallel_for(0, n_, 64, [&](std::int64_t from, std::int64_t to) {
        std::vector<double> d(static_cast<std::size_t>(k)), p(static_cast<std::size_t>(k));
        for (std::int64_t i = from; i < to; ++i) {
            for (int j = 0; j < k; ++j) {
                const std::int64_t id = graph.id(i, j);
                // Fewer neighbours found (approximate search): weightless fillers.
                d[static_cast<std::size_t>(j)] = id < 0 ? 1e30 : graph.distance(i, j);
                neighbour[static_cast<std::size_t>(i * k + j)] = id >= 0 ? id : (i == 0 ? 1 : 0);
            }
            double beta = 1, lo = 0, hi = 1e300;
            const double dmin = *std::min_element(d.begin(), d.end());
            for (int it = 0; it < 200; ++it) {
                double sum = 0, weighted = 0;
                for (int j = 0; j < k; ++j) {
                    p[static_cast<std::size_t>(j)] = std::exp(-beta * (d[static_cast<std::size_t>(j)] - dmin));
                    sum += p[static_cast<std::size_t>(j)];
                    weighted += p[static_cast<std::size_t>(j)] * (d[static_cast<std::size_t>(j)] - dmin);
                }
                const double entropy = std::log(sum) + beta * weighted / sum;
                if (std::abs(entropy - target) < 1e-5) {
                    for (double &v : p)
                        v /= sum;
                    break;
                }
                if (entropy > target) {
                    lo = beta;
                    beta = hi >= 1e300 ? beta * 2 : (beta + hi) / 2;
                } else {
                    hi = beta;
                    beta = (beta + lo) / 2;
                }
                if (it == 199)
                    for (double &v : p)
                        v /= sum;
            }
            for (int j = 0; j < k; ++j)
                cond[static_cast<std::size_t>(i * k + j)] = p[static_cast<std::size_t>(j)];
        }
    });
    // Symmetrise: P_ij = (p(j|i) + p(i|j)) / 2N.
    const double scale = 1.0 / (2.0 * static_cast<double>(n_));
    auto symmetric = SymmetricGraph<double>::build(
        n_, k, [&](std::int64_t i, int j) { return neighbour[static_cast<std::size_t>(i * k + j)]; },
        [&](std::int64_t i, int j) { return cond[static_cast<std::size_t>(i * k + j)] * scale; },
        [](double a, double b) { return a + b; });
    rowStart_ = std::move(symmetric.rowStart);
    cols_ = std::move(symmetric.cols);
    values_ = std::move(symmetric.values);
}

void Tsne::repulsion(Repulsion method, std::vector<double> &force, double &z) const
{
    if (method == Repulsion::Auto)
        method = n_ < options_.exactBelow ? Repulsion::Exact
                 : n_ < options_.fftAbove ? Repulsion::BarnesHut
                                          : Repulsion::Fft;
    if (method == Repulsion::BarnesHut && options_.theta <= 0)
        method = Repulsion::Exact;
    if (method == Repulsion::Fft) {
        if (!fft_)
            fft_ = std::make_unique<FftRepulsion>(options_.fft);
        z = fft_->compute(y_, force);
        return;
    }
    std::vector<double> zs(static_cast<std::size_t>(n_), 0.0);
    if (method == Repulsion::Exact) {
        at::parallel_for(0, n_, 16, [&](std::int64_t from, std::int64_t to) {
            for (std::int64_t i = from; i < to; ++i) {
                double fx = 0, fy = 0, zi = 0;
                const double px = y_[2 * i], py = y_[2 * i + 1];
                for (std::int64_t j = 0; j < n_; ++j) {
                    if (j == i)
                        continue;
                    const double dx = px - y_[2 * j], dy = py - y_[2 * j + 1];
                    const double q = 1.0 / (1.0 + dx * dx + dy * dy);
                    zi += q;
                    fx += q * q * dx;
                    fy += q * q * dy;
                }
                force[2 * i] = fx, force[2 * i + 1] = fy, zs[static_cast<std::size_t>(i)] = zi;
            }
        });
    } else {
        const QuadTree tree(y_);
        const double theta2 = options_.theta * options_.theta;
        at::parallel_for(0, n_, 64, [&](std::int64_t from, std::int64_t to) {
            for (std::int64_t i = from; i < to; ++i) {
                double fx = 0, fy = 0, zi = 0;
                tree.force(i, theta2, fx, fy, zi);
                force[2 * i] = fx, force[2 * i + 1] = fy, zs[static_cast<std::size_t>(i)] = zi;
            }
        });
    }
    z = std::accumulate(zs.begin(), zs.end(), 0.0);
}

std::vector<double> Tsne::gradient(Repulsion method) const
{
    std::vector<double> rep(static_cast<std::size_t>(2 * n_));
    double z = 0;
    repulsion(method, rep, z);
    const double exaggeration = iteration_ < options_.exaggerationIterations ? options_.earlyExaggeration : 1.0;
    std::vector<double> grad(static_cast<std::size_t>(2 * n_));
    at::parallel_for(0, n_, 256, [&](std::int64_t from, std::int64_t to) {
        for (std::int64_t i = from; i < to; ++i) {
            double ax = 0, ay = 0;
            for (std::int64_t e = rowStart_[static_cast<std::size_t>(i)]; e < rowStart_[static_cast<std::size_t>(i + 1)]; ++e) {
                const std::int64_t j = cols_[static_cast<std::size_t>(e)];
                const double dx = y_[2 * i] - y_[2 * j], dy = y_[2 * i + 1] - y_[2 * j + 1];
                const double q = 1.0 / (1.0 + dx * dx + dy * dy);
                ax += values_[static_cast<std::size_t>(e)] * q * dx;
                ay += values_[static_cast<std::size_t>(e)] * q * dy;
            }
            grad[2 * i] = 4 * (exaggeration * ax - rep[2 * i] / z);
            grad[2 * i + 1] = 4 * (exaggeration * ay - rep[2 * i + 1] / z);
        }
    });
    return grad;
}

void Tsne::run(int steps)
{
    const double lr = options_.learningRate > 0 ? options_.learningRate
                                                : std::max(static_cast<double>(n_) / 12.0, 200.0);
    for (int s = 0; s < steps && !done(); ++s) {
        const std::vector<double> grad = gradient(Repulsion::Auto);
        const double momentum = iteration_ < options_.exaggerationIterations ? 0.5 : 0.8;
        double mx = 0, my = 0;
        for (std::size_t c = 0; c < y_.size(); ++c) {
            const bool sameSign = (grad[c] > 0) == (update_[c] > 0);
            gains_[c] = std::max(sameSign ? gains_[c] * 0.8 : gains_[c] + 0.2, 0.01);
            update_[c] = momentum * update_[c] - lr * gains_[c] * grad[c];
            y_[c] += update_[c];
            (c % 2 ? my : mx) += y_[c];
        }
        mx /= static_cast<double>(n_), my /= static_cast<double>(n_);
        for (std::int64_t i = 0; i < n_; ++i)
            y_[2 * i] -= mx, y_[2 * i + 1] -= my;
        ++iteration_;
    }
}

torch::Tensor Tsne::embedding() const
{
    return torch::from_blob(const_cast<double *>(y_.data()), {n_, 2}, torch::kFloat64).to(torch::kFloat32).clone();
}

double Tsne::klDivergence() const
{
    double z = 0;
    for (std::int64_t i = 0; i < n_; ++i)
        for (std::int64_t j = 0; j < n_; ++j)
            if (i != j) {
                const double dx = y_[2 * i] - y_[2 * j], dy = y_[2 * i + 1] - y_[2 * j + 1];
                z += 1.0 / (1.0 + dx * dx + dy * dy);
            }
    double kl = 0;
    for (std::int64_t i = 0; i < n_; ++i)
        for (std::int64_t e = rowStart_[static_cast<std::size_t>(i)]; e < rowStart_[static_cast<std::size_t>(i + 1)]; ++e) {
            const std::int64_t j = cols_[static_cast<std::size_t>(e)];
            const double p = values_[static_cast<std::size_t>(e)];
            const double dx = y_[2 * i] - y_[2 * j], dy = y_[2 * i + 1] - y_[2 * j + 1];
            const double q = 1.0 / (1.0 + dx * dx + dy * dy) / z;
            if (p > 0)
                kl += p * std::log(p / std::max(q, 1e-300));
        }
    return kl;
}

} // namespace convscope
