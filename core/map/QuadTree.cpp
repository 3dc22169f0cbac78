#include "map/QuadTree.h"

#include <algorithm>
#include <numeric>

namespace convscope {

QuadTree::QuadTree(const std::vector<double> &y) : y_(y)
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

void QuadTree::force(std::int64_t self, double theta2, double &fx, double &fy, double &z) const
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

void QuadTree::build(std::size_t at, std::int64_t begin, std::int64_t end, double cx, double cy, double half, int depth)
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

} // namespace convscope
