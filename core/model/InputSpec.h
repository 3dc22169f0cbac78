#pragma once
// How images become the model's input tensor (from the sidecar JSON, or defaults).
#include <string>
#include <vector>

namespace convscope {

/// How an image of another size is brought to the model's input size.
enum class ResizePolicy {
    Stretch,    ///< resize to width×height, ignoring the aspect ratio ("stretch")
    CenterCrop, ///< resize the shorter side to `resizeTo`, then crop the centre ("crop"; ImageNet style)
    Pad,        ///< fit inside width×height keeping the aspect ratio, pad with the mean colour ("pad")
};

/// The order of a 3-channel input's planes. Caffe models and models trained on OpenCV-decoded images take BGR.
enum class ChannelOrder {
    Rgb, ///< plane 0 is red ("rgb"; torchvision and most frameworks)
    Bgr, ///< plane 0 is blue ("bgr")
};

struct InputSpec {
    int width = 224;   ///< input width in pixels
    int height = 224;  ///< input height in pixels
    int channels = 3;  ///< 1 (grayscale) or 3 (colour, planes in `order`)
    ChannelOrder order = ChannelOrder::Rgb; ///< 3 channels only: the order of the planes the model takes
    /// Per channel in the model's order (`order`: a BGR model's mean starts with blue), subtracted after scaling
    /// to [0, range].
    std::vector<float> mean{0.485f, 0.456f, 0.406f};
    std::vector<float> std{0.229f, 0.224f, 0.225f};  ///< per channel (model's order), divides after the mean
    ResizePolicy resize = ResizePolicy::CenterCrop;
    int resizeTo = 256;  ///< shorter side before the centre crop (CenterCrop only)
    float range = 1.0f;  ///< pixel values are scaled to [0, range] (1 for torchvision, 255 for Caffe-style)
};

/// "stretch", "crop", "pad".
const char *resizePolicyName(ResizePolicy policy);
/// The policy named `name` ("stretch", "crop", "pad"); false (and `policy` unchanged) for any other name.
bool parseResizePolicy(const std::string &name, ResizePolicy &policy);

/// "rgb", "bgr".
const char *channelOrderName(ChannelOrder order);
/// The order named `name` ("rgb", "bgr", any case); false (and `order` unchanged) for any other name.
bool parseChannelOrder(const std::string &name, ChannelOrder &order);

} // namespace convscope
