#pragma once
// For every channel of a layer, the k strongest responses seen so far over a stream of image batches, at most one
// per image (Zeiler & Fergus's "top-9 from distinct images"). Memory is channels × k, whatever the number of
// images. Order is fully defined: larger value first, then smaller image id, then smaller position (y, x), so two
// scans of the same data — in any batch split — select exactly the same entries.
//
// Building block of the dataset scan: `add` per batch, `top` at the end; `state`/`restore` let a scan resume.
#include "model/ChannelStatistics.h"
#include "scan/TopKEntry.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace convscope {

class TopKTracker {
public:
    /// What is ranked per (image, channel).
    enum class Statistic {
        SpatialMax,  ///< the largest activation of the channel's map, with its position (top-k patches)
        SpatialMean, ///< the mean of the map (max-response images by mean); position is -1
    };

    using Entry = TopKEntry; ///< value, image (dataset index), position y, x (SpatialMax; else -1)

    TopKTracker(std::int64_t channels, int k, Statistic statistic = Statistic::SpatialMax);

    /// `activations`: N×C×H×W (or N×C for fully connected outputs, H = W = 1); `images`: N dataset indices.
    /// Throws UsageError when the channel count or image count does not match.
    void add(const torch::Tensor &activations, const std::vector<std::int64_t> &images);

    /// The same with the per-(image, channel) statistics already computed (ChannelStatistics): `value` N×C float32,
    /// `where` N×C int64 flat positions (used for SpatialMax), `width` the map's width.
    void addStatistics(const torch::Tensor &value, const torch::Tensor &where, std::int64_t width,
                       const std::vector<std::int64_t> &images);

    /// Offers one candidate to a channel (the same rule as add); true when it entered the top k.
    bool offer(std::int64_t channel, const Entry &candidate);

    /// Candidates that entered some channel's top k during add() since the last take and are still in it. Replaying
    /// them with offer() into a fresh tracker rebuilds this one's state exactly (a candidate that never entered, or
    /// was pushed out again before the take by k better ones, can never be in the final top k), which is how a scan
    /// logs its progress in a few entries per batch and resumes after a kill.
    using Accepted = TopKAccepted;
    void setRecording(bool on) { recording_ = on; }
    std::vector<Accepted> takeAccepted();

    /// Up to k entries of `channel`, best first (fewer when fewer images were seen).
    std::vector<Entry> top(std::int64_t channel) const;

    std::int64_t channels() const { return channels_; }
    int k() const { return k_; }

    /// The whole state as tensors (values C×k float32, images C×k int64 with -1 for empty slots, positions C×k×2
    /// int32), and back: for saving a resumable scan.
    struct State {
        torch::Tensor values, images, positions;
    };
    State state() const;
    void restore(const State &state);

private:
    std::int64_t channels_;
    int k_;
    Statistic statistic_;
    torch::Tensor values_;    ///< C×k float32, -inf where empty
    torch::Tensor images_;    ///< C×k int64, -1 where empty
    torch::Tensor positions_; ///< C×k×2 int32 (y, x)
    bool recording_ = false;
    std::vector<Accepted> accepted_;
};

} // namespace convscope
