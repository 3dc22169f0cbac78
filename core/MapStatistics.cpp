#include "MapStatistics.h"

#include "Error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>

namespace convscope {

MapStatistics MapStatistics::of(const torch::Tensor &maps)
{
    torch::Tensor a = maps.detach().to(torch::kFloat32).contiguous();
    if (a.dim() == 2)
        a = a.unsqueeze(2).unsqueeze(3);
    if (a.dim() != 4)
        throw UsageError("map statistics need N×C×H×W or N×C activations");
    const std::int64_t n = a.size(0), c = a.size(1), hw = a.size(2) * a.size(3);
    MapStatistics s{torch::empty({n, c}), torch::empty({n, c}, torch::kInt64), torch::empty({n, c})};
    const float *in = a.data_ptr<float>();
    float *mx = s.max.data_ptr<float>(), *mean = s.mean.data_ptr<float>();
    std::int64_t *arg = s.argmax.data_ptr<std::int64_t>();
    const std::int64_t rows = n * c;
    const std::int64_t grain = std::max<std::int64_t>(1, 32768 / std::max<std::int64_t>(hw, 1));
    at::parallel_for(0, rows, grain, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
            const float *p = in + r * hw;
            // Eight independent lanes for the sum and the maximum, so the compiler can vectorise and no add waits
            // on the previous one; then the first position of the maximum, found again in the cached row.
            float sum[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            float top[8];
            std::fill(top, top + 8, -std::numeric_limits<float>::infinity());
            std::int64_t i = 0;
            for (; i + 8 <= hw; i += 8)
                for (int j = 0; j < 8; ++j) {
                    const float v = p[i + j];
                    sum[j] += v;
                    top[j] = v > top[j] ? v : top[j];
                }
            double total = 0;
            float best = -std::numeric_limits<float>::infinity();
            for (int j = 0; j < 8; ++j) {
                total += sum[j];
                best = std::max(best, top[j]);
            }
            for (; i < hw; ++i) {
                total += p[i];
                best = std::max(best, p[i]);
            }
            std::int64_t at = 0;
            while (at < hw && p[at] != best)
                ++at;
            if (at == hw) { // NaNs only: report the first position
                at = 0;
                best = p[0];
            }
            const double sumAll = total;
            mx[r] = best;
            arg[r] = at;
            mean[r] = static_cast<float>(sumAll / static_cast<double>(hw));
        }
    });
    return s;
}

} // namespace convscope
