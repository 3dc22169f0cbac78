#include "map/MapGrid.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace convscope {

torch::Tensor MapGrid::snap(const torch::Tensor &coordsIn)
{
    const torch::Tensor coords = coordsIn.to(torch::kFloat64).contiguous();
    const std::int64_t n = coords.size(0);
    const auto columns = static_cast<std::int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
    const double *c = coords.data_ptr<double>();
    std::vector<std::int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return c[2 * a + 1] < c[2 * b + 1]; });
    torch::Tensor grid = torch::empty({n, 2});
    for (std::int64_t row = 0; row * columns < n; ++row) {
        const auto first = order.begin() + row * columns;
        const auto last = order.begin() + std::min(n, (row + 1) * columns);
        std::stable_sort(first, last, [&](auto a, auto b) { return c[2 * a] < c[2 * b]; });
        for (auto it = first; it != last; ++it) {
            grid[*it][0] = static_cast<float>(it - first);
            grid[*it][1] = static_cast<float>(row);
        }
    }
    return grid;
}

} // namespace convscope
