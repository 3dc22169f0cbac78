#include "model/ChannelStatistics.h"

#include "common/Error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace convscope {
namespace {

// Eight lanes in GCC/Clang vector types: plain SSE on baseline x86-64, and an AVX2 clone where the CPU has it.
typedef float Floats __attribute__((vector_size(32)));
typedef std::int32_t Ints __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CONVSCOPE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CONVSCOPE_CLONES
#endif

/// The first value that is not NaN, else the first value: the maximum of a row with nothing above -inf.
void nothingAboveLowest(const float *p, std::int64_t hw, float &maxOut, std::int64_t &argOut)
{
    std::int64_t at = 0;
    while (at < hw && std::isnan(p[at]))
        ++at;
    if (at == hw)
        at = 0;
    maxOut = p[at];
    argOut = at;
}

/// One row (one channel of one image): its maximum, the first position of it, and its sum, in a single pass.
/// Two sets of eight lanes (so consecutive blocks do not wait on each other) each keep their maximum and the step
/// where they first reached it (strictly greater replaces, so the first position wins); the sum goes from float
/// lanes into a double every 4096 values. NaNs are ignored unless the row holds nothing else. Rows shorter than
/// one step (3×3 maps, fully connected outputs) take a plain loop: setting up lanes would cost more than it saves.
CONVSCOPE_CLONES void reduceRow(const float *p, std::int64_t hw, float &maxOut, std::int64_t &argOut, double &sumOut)
{
    constexpr int lanes = 8, stride = 2 * lanes;
    const float lowest = -std::numeric_limits<float>::infinity();
    float best = lowest;
    std::int64_t at = hw; // none yet
    double total = 0;
    const std::int64_t steps = hw / stride;
    if (steps > 0) {
        const Floats zero = {0, 0, 0, 0, 0, 0, 0, 0};
        const Floats bottom = zero + lowest;
        Floats top0 = bottom, top1 = bottom, sum0 = zero, sum1 = zero;
        Ints step0 = {0, 0, 0, 0, 0, 0, 0, 0}, step1 = step0;
        std::int32_t k = 0;
        while (k < steps) {
            const std::int32_t end = static_cast<std::int32_t>(std::min<std::int64_t>(steps, k + 256));
            for (; k < end; ++k) {
                Floats x0, x1;
                std::memcpy(&x0, p + static_cast<std::int64_t>(k) * stride, sizeof x0);
                std::memcpy(&x1, p + static_cast<std::int64_t>(k) * stride + lanes, sizeof x1);
                const Ints here = {k, k, k, k, k, k, k, k};
                const Ints g0 = x0 > top0, g1 = x1 > top1;
                top0 = g0 ? x0 : top0;
                top1 = g1 ? x1 : top1;
                step0 = g0 ? here : step0;
                step1 = g1 ? here : step1;
                sum0 += x0;
                sum1 += x1;
            }
            Floats sum = sum0 + sum1; // pairwise, in float, then into the double
            float s4[4] = {sum[0] + sum[4], sum[1] + sum[5], sum[2] + sum[6], sum[3] + sum[7]};
            total += static_cast<double>((s4[0] + s4[2]) + (s4[1] + s4[3]));
            sum0 = sum1 = zero;
        }
        // Merge the two sets lane by lane, then the eight lanes, without branches: larger value, then the
        // smaller position.
        const Ints lane = {0, 1, 2, 3, 4, 5, 6, 7};
        const Ints pos0 = step0 * stride + lane, pos1 = step1 * stride + lanes + lane;
        const Ints take1 = (top1 > top0) | ((top1 == top0) & (pos1 < pos0));
        const Floats top = take1 ? top1 : top0;
        const Ints pos = take1 ? pos1 : pos0;
        best = top[0];
        std::int32_t where = pos[0];
        for (int j = 1; j < lanes; ++j) {
            const bool take = top[j] > best || (top[j] == best && pos[j] < where);
            best = take ? top[j] : best;
            where = take ? pos[j] : where;
        }
        at = best > lowest ? where : hw;
    }
    for (std::int64_t i = steps * stride; i < hw; ++i) {
        total += p[i];
        if (p[i] > best) {
            best = p[i];
            at = i;
        }
    }
    if (at == hw)
        nothingAboveLowest(p, hw, best, at);
    maxOut = best;
    argOut = at;
    sumOut = total;
}

} // namespace

ChannelStatistics ChannelStatistics::of(const torch::Tensor &maps)
{
    torch::Tensor a = maps.detach().to(torch::kFloat32).contiguous();
    if (a.dim() == 2)
        a = a.unsqueeze(2).unsqueeze(3);
    if (a.dim() != 4)
        throw UsageError("channel statistics need N×C×H×W or N×C activations");
    const std::int64_t n = a.size(0), c = a.size(1), hw = a.size(2) * a.size(3);
    if (hw == 0 || hw > std::numeric_limits<std::int32_t>::max() / 2)
        throw UsageError("channel statistics need maps of 1 to 2^30 values");
    ChannelStatistics s{torch::empty({n, c}), torch::empty({n, c}, torch::kInt64), torch::empty({n, c})};
    const float *in = a.data_ptr<float>();
    float *mx = s.max.data_ptr<float>(), *mean = s.mean.data_ptr<float>();
    std::int64_t *arg = s.argmax.data_ptr<std::int64_t>();
    at::parallel_for(0, n * c, std::max<std::int64_t>(1, 32768 / hw), [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
            double sum = 0;
            reduceRow(in + r * hw, hw, mx[r], arg[r], sum);
            mean[r] = static_cast<float>(sum / static_cast<double>(hw));
        }
    });
    return s;
}

} // namespace convscope
