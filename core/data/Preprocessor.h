#pragma once
// Turns decoded images into the model's input tensor according to an InputSpec.
#include "model/InputSpec.h"

#include <opencv2/core.hpp>
#include <torch/types.h>

namespace convscope {

class Preprocessor {
public:
    explicit Preprocessor(InputSpec spec) : spec_(std::move(spec)) {}
    const InputSpec &spec() const { return spec_; }

    /// The image as the model sees it before normalisation: spec.width×spec.height, 1 or 3 channels (RGB order whatever the
    /// model's order: tensor() and normalise() put the planes in that),
    /// float32 in [0, 1]. Resizing follows spec.resize (area interpolation when shrinking, bilinear when
    /// enlarging, as PIL's antialiased resize approximately does).
    cv::Mat fit(const cv::Mat &decoded) const;

    /// Throws DataError for an image OpenCV cannot convert.
    /// C×H×W float tensor as the model takes it: fit(), planes in the model's channel order (spec.order), scaled to
    /// [0, range], minus mean, divided by std.
    torch::Tensor tensor(const cv::Mat &decoded) const;

    /// Normalises an already fitted image (output of fit(), RGB) into the model's input (its channel order).
    torch::Tensor normalise(const cv::Mat &fitted) const;
    /// Normalises a whole N×C×H×W batch in place, planes already in the model's order: the same arithmetic as
    /// normalise(), in a few vectorised ops instead of a few per image.
    void normaliseInPlace(const torch::Tensor &batch) const;
    /// `rgb` (C×H×W or N×C×H×W, colour planes in RGB order) in the model's channel order: a copy with red and blue
    /// swapped for a BGR model, `rgb` itself otherwise.
    torch::Tensor inModelOrder(const torch::Tensor &rgb) const;
    /// The inverse: a tensor in the model's channel order (an input, or a gradient with respect to it) in RGB order,
    /// for showing it. The same swap.
    torch::Tensor inRgbOrder(const torch::Tensor &modelOrder) const { return inModelOrder(modelOrder); }
    /// Copies a fitted H×W×C image into a contiguous C×H×W float tensor (a slice of a batch).
    static void copyInto(const cv::Mat &fitted, const torch::Tensor &chw);

    /// tensor(decoded) written into `chw` (a contiguous C×H×W float32 slice of a batch), bit for bit. 8-bit images
    /// take a shorter road: resized as decoded (BGR or grey; resizing works on each channel alone, so the order
    /// does not matter), then one pass through a 256-entry table per channel that holds exactly what the float
    /// conversion and the normalisation compute, putting the planes in the model's order on the way. Throws DataError like fit().
    void tensorInto(const cv::Mat &decoded, const torch::Tensor &chw) const;

    /// How much smaller an image of `width`×`height` (either way round: EXIF may turn it) may be decoded for this
    /// input: the largest of 8, 4, 2 for which the part of the image the model sees still has at least twice the
    /// input's pixels across and down, else 1. Resizing then still averages two or more decoded pixels into each
    /// input pixel, and the input differs from a whole decode resized the same way by little (README, "Large
    /// photos": on 12-megapixel photos a mean of 0.6/255, 98% of values within 4/255, none beyond 23/255).
    int decodeReduction(int width, int height) const;

    /// A fitted image (output of fit()) as a 3×H×W float tensor in [0, 1] for display (grey repeated to RGB).
    static torch::Tensor rgb(const cv::Mat &fitted);

private:
    /// A 3-channel BGR model: tensors for it hold their planes blue first.
    bool swapsPlanes() const;
    cv::Mat fitUnchecked(const cv::Mat &decoded) const;
    /// Stretch or centre crop to spec size, in the image's own depth and channels (not for ResizePolicy::Pad).
    cv::Mat resizedToSpec(const cv::Mat &img) const;
    InputSpec spec_;
};

} // namespace convscope
