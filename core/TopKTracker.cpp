#include "TopKTracker.h"

#include "Error.h"

#include <limits>

namespace convscope {

TopKTracker::TopKTracker(std::int64_t channels, int k, Statistic statistic)
    : channels_(channels), k_(k), statistic_(statistic)
{
    if (channels <= 0 || k <= 0)
        throw UsageError("top-k needs at least one channel and k >= 1");
    values_ = torch::full({channels, k}, -std::numeric_limits<float>::infinity());
    images_ = torch::full({channels, k}, -1, torch::kInt64);
    positions_ = torch::full({channels, k, 2}, -1, torch::kInt32);
}

void TopKTracker::add(const torch::Tensor &activations, const std::vector<std::int64_t> &images)
{
    torch::Tensor a = activations.detach().to(torch::kFloat32);
    if (a.dim() == 2)
        a = a.unsqueeze(2).unsqueeze(3);
    if (a.dim() != 4 || a.size(1) != channels_)
        throw UsageError("top-k: expected N×" + std::to_string(channels_) + "×H×W activations");
    const int64_t n = a.size(0), w = a.size(3);
    if (static_cast<int64_t>(images.size()) != n)
        throw UsageError("top-k: " + std::to_string(n) + " activations but " + std::to_string(images.size()) +
                         " image ids");
    if (n == 0)
        return;
    torch::Tensor flat = a.reshape({n, channels_, -1});
    torch::Tensor value, where;
    if (statistic_ == Statistic::SpatialMax) {
        // First occurrence of the maximum: the smallest (y, x) in row-major order among ties.
        auto [v, i] = flat.max(2);
        value = v;
        where = i;
    } else {
        value = flat.mean(2);
        where = torch::full({n, channels_}, -1, torch::kInt64);
    }
    torch::Tensor ids = torch::tensor(images, torch::kInt64).unsqueeze(1).expand({n, channels_});
    torch::Tensor pos = statistic_ == Statistic::SpatialMax
                            ? torch::stack({torch::div(where, w, "floor"), torch::remainder(where, w)}, 2).to(torch::kInt32)
                            : torch::full({n, channels_, 2}, -1, torch::kInt32);
    // Candidates per channel: the kept k plus this batch's n, then rank by (value desc, image asc).
    torch::Tensor allValues = torch::cat({values_, value.t()}, 1);
    torch::Tensor allImages = torch::cat({images_, ids.t()}, 1);
    torch::Tensor allPos = torch::cat({positions_, pos.transpose(0, 1)}, 1);
    // Empty slots carry image -1 and value -inf: they sort last by value whatever their id.
    torch::Tensor byImage = std::get<1>(allImages.sort(/*stable=*/true, /*dim=*/1, /*descending=*/false));
    torch::Tensor v1 = allValues.gather(1, byImage);
    torch::Tensor byValue = std::get<1>(v1.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true));
    torch::Tensor order = byImage.gather(1, byValue).narrow(1, 0, k_);
    values_ = allValues.gather(1, order).contiguous();
    images_ = allImages.gather(1, order).contiguous();
    positions_ = allPos.gather(1, order.unsqueeze(2).expand({channels_, k_, 2})).contiguous();
}

std::vector<TopKTracker::Entry> TopKTracker::top(std::int64_t channel) const
{
    if (channel < 0 || channel >= channels_)
        throw UsageError("top-k: no channel " + std::to_string(channel));
    std::vector<Entry> out;
    auto v = values_.accessor<float, 2>();
    auto im = images_.accessor<int64_t, 2>();
    auto p = positions_.accessor<int32_t, 3>();
    for (int j = 0; j < k_; ++j) {
        if (im[channel][j] < 0)
            break;
        out.push_back({v[channel][j], im[channel][j], p[channel][j][0], p[channel][j][1]});
    }
    return out;
}

TopKTracker::State TopKTracker::state() const
{
    return {values_.clone(), images_.clone(), positions_.clone()};
}

void TopKTracker::restore(const State &state)
{
    if (!state.values.defined() || state.values.sizes() != values_.sizes() ||
        state.images.sizes() != images_.sizes() || state.positions.sizes() != positions_.sizes())
        throw DataError("saved top-k state does not match " + std::to_string(channels_) + " channels × k=" +
                        std::to_string(k_));
    values_ = state.values.to(torch::kFloat32).contiguous();
    images_ = state.images.to(torch::kInt64).contiguous();
    positions_ = state.positions.to(torch::kInt32).contiguous();
}

} // namespace convscope
