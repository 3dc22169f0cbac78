#include "render/ImageConversion.h"

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

namespace convscope {

QImage ImageConversion::fromTensor(const torch::Tensor &image)
{
    const torch::Tensor t = (image.clamp(0, 1) * 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
    const bool grey = t.size(2) == 1;
    return QImage(t.data_ptr<std::uint8_t>(), static_cast<int>(t.size(1)), static_cast<int>(t.size(0)),
                  static_cast<int>(t.size(1) * t.size(2)), grey ? QImage::Format_Grayscale8 : QImage::Format_RGB888)
        .copy();
}

torch::Tensor ImageConversion::toTensor(const QImage &image)
{
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    return torch::from_blob(const_cast<uchar *>(rgb.constBits()), {rgb.height(), rgb.width(), 3},
                            {rgb.bytesPerLine(), 3, 1}, torch::kUInt8)
        .permute({2, 0, 1})
        .to(torch::kFloat32)
        .div(255);
}

QImage ImageConversion::fromMat(const cv::Mat &image, ChannelOrder order)
{
    cv::Mat u8;
    if (image.depth() == CV_8U)
        u8 = image;
    else
        image.convertTo(u8, CV_8U, image.depth() == CV_16U ? 1.0 / 257 : 255.0);
    if (u8.channels() == 1)
        return QImage(u8.data, u8.cols, u8.rows, static_cast<int>(u8.step), QImage::Format_Grayscale8).copy();
    cv::Mat rgb = u8;
    if (order == ChannelOrder::Bgr)
        cv::cvtColor(u8, rgb, cv::COLOR_BGR2RGB);
    return QImage(rgb.data, rgb.cols, rgb.rows, static_cast<int>(rgb.step), QImage::Format_RGB888).copy();
}

cv::Mat ImageConversion::toMat(const QImage &image)
{
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    const cv::Mat view(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar *>(rgb.constBits()),
                       static_cast<size_t>(rgb.bytesPerLine()));
    cv::Mat bgr;
    cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
    return bgr;
}

} // namespace convscope
