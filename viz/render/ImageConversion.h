#pragma once
// The one place pixels change representation between the engine and Qt: float tensors (3×H×W in [0, 1], what
// grids and posters draw), OpenCV matrices (what decoding and preprocessing give) and QImages (what Qt paints and
// saves). Every result is a deep copy, so it may outlive its source and cross threads.
#include <QImage>

#include <opencv2/core.hpp>
#include <torch/types.h>

namespace convscope {

class ImageConversion {
public:
    enum class ChannelOrder { Rgb, Bgr };

    /// 3×H×W (or 1×H×W) float tensor, values in [0, 1] (clamped) → RGB888 (or Grayscale8) QImage.
    static QImage fromTensor(const torch::Tensor &image);
    /// Any QImage → 3×H×W float32 tensor in [0, 1].
    static torch::Tensor toTensor(const QImage &image);
    /// 1- or 3-channel matrix → Grayscale8 or RGB888 QImage. Depth: 8-bit as it is, 16-bit scaled by 1/257, float
    /// taken as [0, 1]. `order` says how 3 channels are stored (ImageDecoder gives BGR, Preprocessor::fit RGB).
    static QImage fromMat(const cv::Mat &image, ChannelOrder order);
    /// Any QImage → 8-bit 3-channel BGR matrix (ImageDecoder's format).
    static cv::Mat toMat(const QImage &image);
};

} // namespace convscope
