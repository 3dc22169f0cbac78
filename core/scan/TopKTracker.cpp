#include "scan/TopKTracker.h"

#include "common/Error.h"

#include <algorithm>
#include <functional>
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
    if ((activations.dim() != 4 && activations.dim() != 2) || activations.size(1) != channels_)
        throw UsageError("top-k: expected N×" + std::to_string(channels_) + "×H×W activations");
    const ChannelStatistics stats = ChannelStatistics::of(activations);
    addStatistics(statistic_ == Statistic::SpatialMax ? stats.max : stats.mean, stats.argmax,
                  activations.dim() == 4 ? activations.size(3) : 1, images);
}

void TopKTracker::addStatistics(const torch::Tensor &value, const torch::Tensor &where, std::int64_t w,
                                const std::vector<std::int64_t> &images)
{
    if (value.dim() != 2 || value.size(1) != channels_ || where.sizes() != value.sizes())
        throw UsageError("top-k: expected N×" + std::to_string(channels_) + " statistics");
    const int64_t n = value.size(0);
    if (static_cast<int64_t>(images.size()) != n)
        throw UsageError("top-k: " + std::to_string(n) + " activations but " + std::to_string(images.size()) +
                         " image ids");
    // Channel by channel over a transposed copy (each channel's n values side by side), against the channel's
    // current k-th entry, with offer's rule: a larger value, or an equal one from a smaller image, would enter.
    // (Dead or saturated units give the same value for every image: ties must not all go through offer.) When more
    // than k of a batch's values pass (a new tracker, the first batches), the batch's own k-th largest among them
    // raises the bar: a value below it has k better ones in this batch alone, so it could not stay.
    const torch::Tensor vc = value.to(torch::kFloat32).t().contiguous(), wc = where.to(torch::kInt64).contiguous();
    const float *v = vc.data_ptr<float>();
    const int64_t *at = wc.data_ptr<int64_t>();
    const bool withPosition = statistic_ == Statistic::SpatialMax;
    const float *kthValue = values_.data_ptr<float>() + (k_ - 1); // each channel's k-th entry, stride k
    const int64_t *kthImage = images_.data_ptr<int64_t>() + (k_ - 1);
    const int64_t *ids = images.data();
    std::vector<float> passing;
    for (int64_t c = 0; c < channels_; ++c) {
        const float *row = v + c * n;
        const float bar = kthValue[c * k_];
        const int64_t barImage = kthImage[c * k_]; // -1 while the channel has fewer than k entries
        auto passes = [&](int64_t i) { return row[i] > bar || (row[i] == bar && barImage >= 0 && ids[i] < barImage); };
        int64_t count = 0;
        for (int64_t i = 0; i < n; ++i)
            count += passes(i);
        if (count == 0) // the common case once the top k has filled
            continue;
        float raised = -std::numeric_limits<float>::infinity();
        if (count > k_) {
            passing.clear();
            for (int64_t i = 0; i < n; ++i)
                if (passes(i))
                    passing.push_back(row[i]);
            std::nth_element(passing.begin(), passing.begin() + (k_ - 1), passing.end(), std::greater<float>());
            raised = passing[static_cast<size_t>(k_ - 1)];
        }
        for (int64_t i = 0; i < n; ++i) {
            if (!passes(i) || !(row[i] >= raised)) // ties with the raised bar are settled by offer
                continue;
            const int64_t p = withPosition ? at[i * channels_ + c] : -1;
            Entry e{row[i], ids[i], withPosition ? static_cast<int>(p / w) : -1,
                    withPosition ? static_cast<int>(p % w) : -1};
            if (offer(c, e) && recording_)
                accepted_.push_back({c, e});
        }
    }
}

bool TopKTracker::offer(std::int64_t channel, const Entry &e)
{
    if (channel < 0 || channel >= channels_)
        throw DataError("top-k: no channel " + std::to_string(channel) + " (of " + std::to_string(channels_) + ")");
    float *cv = values_.data_ptr<float>() + channel * k_;
    int64_t *ci = images_.data_ptr<int64_t>() + channel * k_;
    int32_t *cp = positions_.data_ptr<int32_t>() + channel * k_ * 2;
    // Better = larger value, then smaller image id; empty slots (-inf, id -1) lose to any real value.
    auto better = [&](int slot) { return e.value > cv[slot] || (e.value == cv[slot] && ci[slot] >= 0 && e.image < ci[slot]); };
    if (!better(k_ - 1))
        return false;
    int slot = k_ - 1;
    while (slot > 0 && better(slot - 1)) {
        cv[slot] = cv[slot - 1];
        ci[slot] = ci[slot - 1];
        cp[2 * slot] = cp[2 * slot - 2];
        cp[2 * slot + 1] = cp[2 * slot - 1];
        --slot;
    }
    cv[slot] = e.value;
    ci[slot] = e.image;
    cp[2 * slot] = e.y;
    cp[2 * slot + 1] = e.x;
    return true;
}

std::vector<TopKTracker::Accepted> TopKTracker::takeAccepted()
{
    // A first batch of 64 images accepts about 27 entries per channel on the way to its 9: keep the 9.
    std::vector<Accepted> out;
    out.reserve(accepted_.size());
    const std::int64_t *images = images_.data_ptr<std::int64_t>();
    for (const Accepted &a : accepted_) {
        const std::int64_t *slots = images + a.channel * k_;
        if (std::find(slots, slots + k_, a.entry.image) != slots + k_)
            out.push_back(a);
    }
    accepted_.clear();
    return out;
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
    values_ = state.values.to(torch::kFloat32).clone(at::MemoryFormat::Contiguous); // own copies: add() writes in place
    images_ = state.images.to(torch::kInt64).clone(at::MemoryFormat::Contiguous);
    positions_ = state.positions.to(torch::kInt32).clone(at::MemoryFormat::Contiguous);
}

} // namespace convscope
