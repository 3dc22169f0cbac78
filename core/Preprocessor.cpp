#include "Preprocessor.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace convscope {

namespace {

cv::Mat resized(const cv::Mat &img, int width, int height)
{
    if (img.cols == width && img.rows == height)
        return img;
    const bool shrinking = width < img.cols || height < img.rows;
    cv::Mat out;
    cv::resize(img, out, cv::Size(width, height), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
    return out;
}

cv::Mat toUnitFloat(const cv::Mat &img)
{
    cv::Mat out;
    switch (img.depth()) {
    case CV_8U: img.convertTo(out, CV_32F, 1.0 / 255.0); break;
    case CV_16U: img.convertTo(out, CV_32F, 1.0 / 65535.0); break;
    default: img.convertTo(out, CV_32F); break;
    }
    return out;
}

} // namespace

cv::Mat Preprocessor::fit(const cv::Mat &decoded) const
{
    cv::Mat img = decoded;
    // Channels first, so resizing works on the fewest channels needed.
    if (spec_.channels == 1 && img.channels() == 3)
        cv::cvtColor(img, img, cv::COLOR_BGR2GRAY);
    else if (spec_.channels == 3 && img.channels() == 1)
        cv::cvtColor(img, img, cv::COLOR_GRAY2RGB);
    else if (spec_.channels == 3)
        cv::cvtColor(img, img, cv::COLOR_BGR2RGB);

    const int W = spec_.width, H = spec_.height;
    switch (spec_.resize) {
    case ResizePolicy::Stretch:
        img = resized(img, W, H);
        break;
    case ResizePolicy::CenterCrop: {
        const double scale = double(spec_.resizeTo) / std::min(img.cols, img.rows);
        const int w = std::max(W, int(img.cols * scale + 0.5)), h = std::max(H, int(img.rows * scale + 0.5));
        img = resized(img, w, h)(cv::Rect((w - W) / 2, (h - H) / 2, W, H)).clone();
        break;
    }
    case ResizePolicy::Pad: {
        const double scale = std::min(double(W) / img.cols, double(H) / img.rows);
        const int w = std::clamp(int(img.cols * scale + 0.5), 1, W), h = std::clamp(int(img.rows * scale + 0.5), 1, H);
        cv::Mat inner = toUnitFloat(resized(img, w, h));
        cv::Scalar mean;
        for (int c = 0; c < spec_.channels; ++c)
            mean[c] = spec_.mean[c] / spec_.range;
        cv::Mat canvas(H, W, inner.type(), mean);
        inner.copyTo(canvas(cv::Rect((W - w) / 2, (H - h) / 2, w, h)));
        return canvas;
    }
    }
    return toUnitFloat(img);
}

torch::Tensor Preprocessor::normalise(const cv::Mat &fitted) const
{
    cv::Mat f = fitted.isContinuous() ? fitted : fitted.clone();
    torch::Tensor t = torch::from_blob(f.data, {f.rows, f.cols, f.channels()}, torch::kFloat32)
                          .permute({2, 0, 1})
                          .clone(at::MemoryFormat::Contiguous); // own the pixels: `f` dies with this scope
    for (int c = 0; c < spec_.channels; ++c)
        t[c].mul_(spec_.range).sub_(spec_.mean[c]).div_(spec_.std[c]);
    return t;
}

torch::Tensor Preprocessor::tensor(const cv::Mat &decoded) const
{
    return normalise(fit(decoded));
}

} // namespace convscope
