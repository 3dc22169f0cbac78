#include "Tsne.h"

#include "Error.h"
#include "ExactIndex.h"
#include "FaissIndex.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace convscope {

namespace {

/// Quadtree over 2-D points with the centre of mass and count of every cell (Barnes-Hut), built by recursive
/// partitioning of an index array (children of a cell are contiguous).
class QuadTree {
public:
    explicit QuadTree(const std::vector<double> &y) : y_(y)
    {
        const auto n = static_cast<std::int64_t>(y.size() / 2);
        order_.resize(static_cast<std::size_t>(n));
        std::iota(order_.begin(), order_.end(), 0);
        double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
        for (std::int64_t i = 0; i < n; ++i) {
            x0 = std::min(x0, y[2 * i]), x1 = std::max(x1, y[2 * i]);
            y0 = std::min(y0, y[2 * i + 1]), y1 = std::max(y1, y[2 * i + 1]);
        }
        nodes_.reserve(static_cast<std::size_t>(n) * 2 + 8);
        nodes_.push_back({});
        build(0, 0, n, (x0 + x1) / 2, (y0 + y1) / 2, std::max({x1 - x0, y1 - y0, 1e-12}) / 2, 0);
    }

    /// Unnormalised repulsion on point `self` and its contribution to Z = Σ 1 / (1 + d²).
    void force(std::int64_t self, double theta2, double &fx, double &fy, double &z) const
    {
        const double px = y_[2 * self], py = y_[2 * self + 1];
        std::int64_t stack[512];
        int top = 0;
        stack[top++] = 0;
        while (top > 0) {
            const Node &nd = nodes_[static_cast<std::size_t>(stack[--top])];
            const double dx = px - nd.mx, dy = py - nd.my, d2 = dx * dx + dy * dy;
            if (nd.child < 0 || 4 * nd.half * nd.half < theta2 * d2) {
                double count = static_cast<double>(nd.end - nd.begin);
                if (nd.child < 0)
                    for (std::int64_t k = nd.begin; k < nd.end; ++k)
                        if (order_[static_cast<std::size_t>(k)] == self)
                            count -= 1;
                if (count <= 0)
                    continue;
                const double q = 1.0 / (1.0 + d2);
                z += count * q;
                fx += count * q * q * dx;
                fy += count * q * q * dy;
            } else {
                for (int c = 0; c < 4; ++c)
                    if (top < 508)
                        stack[top++] = nd.child + c;
            }
        }
    }

private:
    struct Node {
        double half = 0, mx = 0, my = 0;
        std::int64_t begin = 0, end = 0, child = -1;
    };

    void build(std::size_t at, std::int64_t begin, std::int64_t end, double cx, double cy, double half, int depth)
    {
        Node nd;
        nd.half = half;
        nd.begin = begin;
        nd.end = end;
        for (std::int64_t k = begin; k < end; ++k) {
            nd.mx += y_[2 * order_[static_cast<std::size_t>(k)]];
            nd.my += y_[2 * order_[static_cast<std::size_t>(k)] + 1];
        }
        nd.mx /= static_cast<double>(end - begin);
        nd.my /= static_cast<double>(end - begin);
        nodes_[at] = nd;
        if (end - begin <= 1 || depth > 48) // a point, or coincident points: a leaf
            return;
        auto first = order_.begin() + begin, last = order_.begin() + end;
        auto right = [&](std::int64_t i) { return y_[2 * i] >= cx; };
        auto upper = [&](std::int64_t i) { return y_[2 * i + 1] >= cy; };
        auto midX = std::partition(first, last, [&](std::int64_t i) { return !right(i); });
        auto q0 = std::partition(first, midX, [&](std::int64_t i) { return !upper(i); });
        auto q2 = std::partition(midX, last, [&](std::int64_t i) { return !upper(i); });
        const std::int64_t bounds[5] = {begin, q0 - order_.begin(), midX - order_.begin(), q2 - order_.begin(), end};
        const auto child = static_cast<std::int64_t>(nodes_.size());
        nodes_[at].child = child;
        nodes_.resize(nodes_.size() + 4);
        const double h = half / 2;
        const double ox[4] = {cx - h, cx - h, cx + h, cx + h}, oy[4] = {cy - h, cy + h, cy - h, cy + h};
        for (int c = 0; c < 4; ++c) {
            if (bounds[c + 1] > bounds[c])
                build(static_cast<std::size_t>(child + c), bounds[c], bounds[c + 1], ox[c], oy[c], h, depth + 1);
            else
                nodes_[static_cast<std::size_t>(child + c)] = Node{h, ox[c], oy[c], bounds[c], bounds[c], -1};
        }
    }

    const std::vector<double> &y_;
    std::vector<std::int64_t> order_;
    std::vector<Node> nodes_;
};

} // namespace

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
    auto [u, s, v] = torch::linalg_svd(centred, false);
    torch::Tensor start = centred.mm(v.slice(0, 0, 2).t());
    start = start / start.select(1, 0).std().clamp_min(1e-12) * 1e-4;
    start = start.contiguous();
    y_.assign(start.data_ptr<double>(), start.data_ptr<double>() + 2 * n_);
    update_.assign(static_cast<std::size_t>(2 * n_), 0.0);
    gains_.assign(static_cast<std::size_t>(2 * n_), 1.0);
}

void Tsne::affinities(const torch::Tensor &x)
{
    const int k = static_cast<int>(std::min<std::int64_t>(n_ - 1, static_cast<std::int64_t>(3 * options_.perplexity)));
    std::vector<float> dist(static_cast<std::size_t>(n_ * (k + 1)));
    std::vector<std::int64_t> nb(static_cast<std::size_t>(n_ * (k + 1)));
    std::vector<std::int64_t> ids(static_cast<std::size_t>(n_));
    std::iota(ids.begin(), ids.end(), 0);
    if (n_ < options_.exactNeighboursBelow) {
        ExactIndex index(x.size(1), SearchIndex::Metric::L2);
        index.add(x.data_ptr<float>(), n_, ids.data());
        index.search(x.data_ptr<float>(), n_, k + 1, dist.data(), nb.data());
    } else {
        FaissIndex::Options o;
        o.efSearch = std::max(2 * (k + 1), 96);
        FaissIndex index(x.size(1), SearchIndex::Metric::L2, o);
        index.add(x.data_ptr<float>(), n_, ids.data());
        index.search(x.data_ptr<float>(), n_, k + 1, dist.data(), nb.data());
    }
    // Conditional p(j|i) over the k neighbours (self dropped), bandwidth by bisection to the perplexity.
    std::vector<double> cond(static_cast<std::size_t>(n_ * k));
    std::vector<std::int64_t> neighbour(static_cast<std::size_t>(n_ * k));
    const double target = std::log(options_.perplexity);
    at::parallel_for(0, n_, 64, [&](std::int64_t from, std::int64_t to) {
        std::vector<double> d(static_cast<std::size_t>(k)), p(static_cast<std::size_t>(k));
        for (std::int64_t i = from; i < to; ++i) {
            int m = 0;
            for (int j = 0; j <= k && m < k; ++j) {
                const std::int64_t id = nb[static_cast<std::size_t>(i * (k + 1) + j)];
                if (id == i || id < 0)
                    continue;
                d[static_cast<std::size_t>(m)] = dist[static_cast<std::size_t>(i * (k + 1) + j)];
                neighbour[static_cast<std::size_t>(i * k + m)] = id;
                ++m;
            }
            for (; m < k; ++m) { // fewer neighbours found (approximate search): weightless fillers
                d[static_cast<std::size_t>(m)] = 1e30;
                neighbour[static_cast<std::size_t>(i * k + m)] = i == 0 ? 1 : 0;
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
    // Symmetrise: P_ij = (p(j|i) + p(i|j)) / 2N, as CSR rows.
    std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
    std::vector<double> w;
    pairs.reserve(static_cast<std::size_t>(2 * n_ * k));
    for (std::int64_t i = 0; i < n_; ++i)
        for (int j = 0; j < k; ++j) {
            const std::int64_t o = neighbour[static_cast<std::size_t>(i * k + j)];
            pairs.push_back({i, o});
            pairs.push_back({o, i});
        }
    std::vector<std::size_t> order(pairs.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return pairs[a] < pairs[b]; });
    rowStart_.assign(static_cast<std::size_t>(n_ + 1), 0);
    for (std::size_t idx = 0; idx < order.size(); ++idx) {
        const std::size_t e = order[idx];
        const auto [a, b] = pairs[e];
        // Edge e/2 is (i, j-th neighbour); even e: (i → o), odd e: (o → i): both carry p(o|i).
        const double value = cond[e / 2] / (2.0 * static_cast<double>(n_));
        if (!cols_.empty() && idx > 0 && pairs[order[idx - 1]] == pairs[e]) {
            values_.back() += value;
            continue;
        }
        cols_.push_back(b);
        values_.push_back(value);
        ++rowStart_[static_cast<std::size_t>(a + 1)];
    }
    for (std::int64_t i = 0; i < n_; ++i)
        rowStart_[static_cast<std::size_t>(i + 1)] += rowStart_[static_cast<std::size_t>(i)];
}

void Tsne::repulsion(double theta, std::vector<double> &force, double &z) const
{
    std::vector<double> zs(static_cast<std::size_t>(n_), 0.0);
    if (theta <= 0 || n_ < options_.exactBelow) {
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
        at::parallel_for(0, n_, 64, [&](std::int64_t from, std::int64_t to) {
            for (std::int64_t i = from; i < to; ++i) {
                double fx = 0, fy = 0, zi = 0;
                tree.force(i, theta * theta, fx, fy, zi);
                force[2 * i] = fx, force[2 * i + 1] = fy, zs[static_cast<std::size_t>(i)] = zi;
            }
        });
    }
    z = std::accumulate(zs.begin(), zs.end(), 0.0);
}

std::vector<double> Tsne::gradient(double theta) const
{
    std::vector<double> rep(static_cast<std::size_t>(2 * n_));
    double z = 0;
    repulsion(theta, rep, z);
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
        const std::vector<double> grad = gradient(options_.theta);
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
