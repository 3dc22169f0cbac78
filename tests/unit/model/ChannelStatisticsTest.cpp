// Per-map maximum, first position of the maximum and mean, in one pass: equal to PyTorch's own reductions on every
// row length the kernel treats differently (less than a step, whole steps, tails, many flushes of the float sums),
// with ties, negative maps, infinities and NaNs; and the same through the registered TorchScript operator.
#include "CatchTorch.h"

#include "model/ChannelStatistics.h"
#include "model/ChannelStatisticsOp.h"

#include <torch/csrc/jit/api/function_impl.h>

#include <cmath>
#include <limits>

using namespace convscope;

namespace {

/// First position of the maximum, ignoring NaNs unless the row is all NaN (then 0).
std::pair<float, std::int64_t> firstMaximum(const torch::Tensor &row)
{
    const auto r = row.accessor<float, 1>();
    std::int64_t at = -1;
    for (std::int64_t i = 0; i < r.size(0); ++i)
        if (!std::isnan(r[i]) && (at < 0 || r[i] > r[at]))
            at = i;
    if (at < 0)
        at = 0;
    return {r[at], at};
}

void checkAgainstTorch(const torch::Tensor &maps)
{
    const ChannelStatistics s = ChannelStatistics::of(maps);
    const torch::Tensor flat = maps.flatten(2);
    const torch::Tensor mean = flat.to(torch::kFloat64).mean(2);
    for (std::int64_t n = 0; n < maps.size(0); ++n)
        for (std::int64_t c = 0; c < maps.size(1); ++c) {
            INFO("image " << n << " channel " << c << " of " << maps.sizes());
            const auto [value, at] = firstMaximum(flat[n][c]);
            CHECK(s.argmax[n][c].item<std::int64_t>() == at);
            const float got = s.max[n][c].item<float>();
            CHECK((got == value || (std::isnan(got) && std::isnan(value))));
            const double expected = mean[n][c].item<double>();
            if (std::isfinite(expected))
                CHECK(s.mean[n][c].item<float>() ==
                      Approx(expected).epsilon(1e-6).margin(1e-6 * flat[n][c].abs().max().item<float>()));
        }
}

} // namespace

TEST_CASE("channel statistics equal PyTorch's max, first argmax and mean on every row length", "[model]")
{
    torch::manual_seed(7);
    for (std::int64_t h : {1, 2, 3, 4, 5, 7, 8, 9, 13, 28, 71}) {
        const std::int64_t w = h == 71 ? 73 : h + 1; // 71×73 = 5183 values: two flushes of the float sums
        torch::Tensor maps = torch::randn({3, 5, h, w});
        checkAgainstTorch(maps);
        checkAgainstTorch((maps * 2).round().clamp_min(0)); // ReLU-like with many ties, zeros everywhere
        checkAgainstTorch(maps - 100);                       // all negative
    }
    // PyTorch's max.dim reports the first position of a tie, as ours must (scan ranks say "where").
    torch::Tensor ties = torch::zeros({1, 2, 9, 9});
    ties[0][0][3][4] = 1;
    ties[0][0][7][1] = 1;
    const ChannelStatistics s = ChannelStatistics::of(ties);
    CHECK(s.argmax[0][0].item<std::int64_t>() == 3 * 9 + 4);
    CHECK(s.argmax[0][1].item<std::int64_t>() == 0);
    CHECK(std::get<1>(ties.flatten(2).max(2))[0][0].item<std::int64_t>() == 3 * 9 + 4);
}

TEST_CASE("channel statistics: infinities, NaNs and vectors", "[model]")
{
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    torch::Tensor maps = torch::randn({1, 4, 6, 6});
    maps[0][0].fill_(-inf);             // all -inf: the maximum is -inf at 0
    maps[0][1][5][5] = inf;             // +inf wins
    maps[0][2][0][0] = nan;             // a NaN is ignored
    maps[0][3].fill_(nan);              // all NaN: NaN at 0
    const ChannelStatistics s = ChannelStatistics::of(maps);
    CHECK(s.max[0][0].item<float>() == -inf);
    CHECK(s.argmax[0][0].item<std::int64_t>() == 0);
    CHECK(s.max[0][1].item<float>() == inf);
    CHECK(s.argmax[0][1].item<std::int64_t>() == 35);
    const auto [value, at] = firstMaximum(maps.flatten(2)[0][2]);
    CHECK(s.max[0][2].item<float>() == value);
    CHECK(s.argmax[0][2].item<std::int64_t>() == at);
    CHECK(std::isnan(s.max[0][3].item<float>()));
    CHECK(s.argmax[0][3].item<std::int64_t>() == 0);

    // A fully connected output (N×C): each value is its own maximum and mean.
    torch::Tensor vectors = torch::randn({4, 10});
    const ChannelStatistics v = ChannelStatistics::of(vectors);
    CHECK(torch::equal(v.max, vectors));
    CHECK(torch::equal(v.mean, vectors));
    CHECK(v.argmax.eq(0).all().item<bool>());
    // Other float types are read as float32.
    const ChannelStatistics d = ChannelStatistics::of(maps.to(torch::kFloat64).nan_to_num(0, 1e30, -1e30));
    CHECK(d.max.scalar_type() == torch::kFloat32);
}

TEST_CASE("channel statistics run as a TorchScript operator inside a graph", "[model]")
{
    auto graph = std::make_shared<torch::jit::Graph>();
    torch::jit::Value *input = graph->addInput("x");
    input->setType(c10::TensorType::get());
    torch::jit::Value *stats = graph->insert(ChannelStatisticsOp::symbol(), {input});
    graph->registerOutput(stats);
    torch::jit::GraphFunction function("channel_statistics_test", graph, nullptr);
    torch::Tensor maps = torch::randn({2, 3, 5, 7});
    torch::jit::Stack stack{maps};
    function.run(stack);
    const auto &out = stack.at(0).toTupleRef().elements();
    const ChannelStatistics direct = ChannelStatistics::of(maps);
    CHECK(torch::equal(out.at(0).toTensor(), direct.max));
    CHECK(torch::equal(out.at(1).toTensor(), direct.argmax));
    CHECK(torch::equal(out.at(2).toTensor(), direct.mean));
    CHECK(torch::equal(out.at(1).toTensor(), std::get<1>(maps.flatten(2).max(2))));
}
