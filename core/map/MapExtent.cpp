#include "map/MapExtent.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace convscope {

namespace {

/// [lo, hi] of the values between the `tail` quantiles, widened, clamped to the full range.
std::pair<double, double> axisRange(std::vector<double> v, const MapExtent::Options &o)
{
    const auto n = v.size();
    const auto cut = static_cast<std::size_t>(std::floor(o.tail * static_cast<double>(n)));
    const auto [minIt, maxIt] = std::minmax_element(v.begin(), v.end());
    const double fullLo = *minIt, fullHi = *maxIt;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(cut), v.end());
    const double lo = v[cut];
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n - 1 - cut), v.end());
    const double hi = v[n - 1 - cut];
    const double margin = (hi - lo) * o.widen;
    return {std::max(fullLo, lo - margin), std::min(fullHi, hi + margin)};
}

} // namespace

MapExtent MapExtent::of(const std::vector<double> &x, const std::vector<double> &y, Options options)
{
    MapExtent e;
    if (x.empty() || x.size() != y.size())
        return e;
    std::tie(e.left, e.right) = axisRange(x, options);
    std::tie(e.top, e.bottom) = axisRange(y, options);
    return e;
}

} // namespace convscope
