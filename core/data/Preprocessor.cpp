#include "data/Preprocessor.h"

#include "common/Error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

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
    try {
        return fitUnchecked(decoded);
    } catch (const cv::Exception &e) {
        throw DataError("cannot preprocess a " + std::to_string(decoded.cols) + "×" + std::to_string(decoded.rows) +
                        " image: " + e.err);
    }
}

cv::Mat Preprocessor::fitUnchecked(const cv::Mat &decoded) const
{
    if (decoded.empty())
        throw DataError("cannot preprocess an empty image");
    // Channels first, so resizing works on the fewest channels needed (into a new Mat: `decoded` stays as it is).
    cv::Mat img;
    if (spec_.channels == 1 && decoded.channels() == 3)
        cv::cvtColor(decoded, img, cv::COLOR_BGR2GRAY);
    else if (spec_.channels == 3 && decoded.channels() == 1)
        cv::cvtColor(decoded, img, cv::COLOR_GRAY2RGB);
    else if (spec_.channels == 3)
        cv::cvtColor(decoded, img, cv::COLOR_BGR2RGB);
    else
        img = decoded;

    if (spec_.resize != ResizePolicy::Pad)
        return toUnitFloat(resizedToSpec(img));
    const int W = spec_.width, H = spec_.height;
    const double scale = std::min(double(W) / img.cols, double(H) / img.rows);
    const int w = std::clamp(int(img.cols * scale + 0.5), 1, W), h = std::clamp(int(img.rows * scale + 0.5), 1, H);
    cv::Mat inner = toUnitFloat(resized(img, w, h));
    cv::Scalar mean; // the pad colour, in the image's RGB order (a BGR model's mean is blue first)
    for (int c = 0; c < spec_.channels; ++c)
        mean[c] = spec_.mean[swapsPlanes() ? 2 - c : c] / spec_.range;
    cv::Mat canvas(H, W, inner.type(), mean);
    inner.copyTo(canvas(cv::Rect((W - w) / 2, (H - h) / 2, w, h)));
    return canvas;
}

cv::Mat Preprocessor::resizedToSpec(const cv::Mat &img) const
{
    const int W = spec_.width, H = spec_.height;
    if (spec_.resize == ResizePolicy::Stretch)
        return resized(img, W, H);
    // Crop in source pixels first (the W×H window of the image scaled so its shorter side is resizeTo), then
    // resize only that window: a 1×20000 strip never becomes a 256×5,000,000 intermediate.
    const double scale = std::max({double(spec_.resizeTo) / std::min(img.cols, img.rows), double(W) / img.cols,
                                   double(H) / img.rows});
    const int cw = std::clamp(int(std::lround(W / scale)), 1, img.cols);
    const int ch = std::clamp(int(std::lround(H / scale)), 1, img.rows);
    return resized(img(cv::Rect((img.cols - cw) / 2, (img.rows - ch) / 2, cw, ch)), W, H);
}

int Preprocessor::decodeReduction(int width, int height) const
{
    if (width <= 0 || height <= 0)
        return 1;
    // Input pixels per source pixel across the part of the image the model sees (the smaller of the two axes).
    auto density = [&](double w, double h) {
        const double W = spec_.width, H = spec_.height;
        switch (spec_.resize) {
        case ResizePolicy::Stretch: return std::max(W / w, H / h);
        case ResizePolicy::CenterCrop: return std::max({double(spec_.resizeTo) / std::min(w, h), W / w, H / h});
        case ResizePolicy::Pad: return std::min(W / w, H / h);
        }
        return 1.0;
    };
    const double most = std::max(density(width, height), density(height, width));
    for (int f : {8, 4, 2})
        if (most * f <= 0.5)
            return f;
    return 1;
}

void Preprocessor::tensorInto(const cv::Mat &decoded, const torch::Tensor &chw) const
{
    const int C = spec_.channels;
    if (chw.scalar_type() != torch::kFloat32 || !chw.is_contiguous() || chw.dim() != 3 || chw.size(0) != C ||
        chw.size(1) != spec_.height || chw.size(2) != spec_.width)
        throw UsageError("tensorInto needs a contiguous " + std::to_string(C) + "×" + std::to_string(spec_.height) +
                         "×" + std::to_string(spec_.width) + " float tensor");
    const bool fast = !decoded.empty() && decoded.depth() == CV_8U && spec_.resize != ResizePolicy::Pad &&
                      (decoded.channels() == 1 || decoded.channels() == 3) && (C == 1 || C == 3);
    if (!fast) {
        copyInto(fit(decoded), chw);
        if (swapsPlanes())
            chw.copy_(chw.flip(0));
        normaliseInPlace(chw.unsqueeze(0));
        return;
    }
    cv::Mat px;
    try {
        // Grey for a grey model is the one conversion that must come before resizing (it mixes channels).
        cv::Mat img = decoded;
        if (C == 1 && decoded.channels() == 3)
            cv::cvtColor(decoded, img, cv::COLOR_BGR2GRAY);
        px = resizedToSpec(img);
    } catch (const cv::Exception &e) {
        throw DataError("cannot preprocess a " + std::to_string(decoded.cols) + "×" + std::to_string(decoded.rows) +
                        " image: " + e.err);
    }
    // table[c][v]: what toUnitFloat and normaliseInPlace (· range, − mean, ÷ std) make of v — the first by the
    // same OpenCV call on the 256 values.
    cv::Mat ramp(1, 256, CV_8U);
    for (int v = 0; v < 256; ++v)
        ramp.at<unsigned char>(0, v) = static_cast<unsigned char>(v);
    const cv::Mat unit = toUnitFloat(ramp);
    float table[3][256];
    for (int c = 0; c < C; ++c)
        for (int v = 0; v < 256; ++v) {
            const float f = unit.at<float>(0, v);
            const float scaled = f * spec_.range;
            const float centred = scaled - spec_.mean[c];
            table[c][v] = centred / spec_.std[c];
        }
    const int H = spec_.height, W = spec_.width, from = px.channels();
    const std::int64_t plane = static_cast<std::int64_t>(H) * W;
    float *out = chw.data_ptr<float>();
    // Restrict-qualified planes and tables: the stores cannot alias the tables, so the loops keep them in place.
    const float *__restrict t0 = table[0];
    const float *__restrict t1 = table[C > 1 ? 1 : 0];
    const float *__restrict t2 = table[C > 2 ? 2 : 0];
    // A BGR model takes the decoded order as it is; an RGB one the first and last bytes swapped.
    const int first = swapsPlanes() ? 0 : 2, last = 2 - first;
    for (int y = 0; y < H; ++y) {
        const unsigned char *__restrict row = px.ptr<unsigned char>(y);
        float *__restrict o0 = out + static_cast<std::int64_t>(y) * W;
        if (from == 1) {
            for (int c = 0; c < C; ++c) {
                const float *__restrict tc = table[c];
                float *__restrict oc = o0 + c * plane;
                for (int x = 0; x < W; ++x)
                    oc[x] = tc[row[x]];
            }
        } else {
            float *__restrict o1 = o0 + plane;
            float *__restrict o2 = o0 + 2 * plane;
            for (int x = 0; x < W; ++x) {
                o0[x] = t0[row[3 * x + first]];
                o1[x] = t1[row[3 * x + 1]];
                o2[x] = t2[row[3 * x + last]];
            }
        }
    }
}

torch::Tensor Preprocessor::normalise(const cv::Mat &fitted) const
{
    cv::Mat f = fitted.isContinuous() ? fitted : fitted.clone();
    torch::Tensor t = torch::from_blob(f.data, {f.rows, f.cols, f.channels()}, torch::kFloat32)
                          .permute({2, 0, 1})
                          .clone(at::MemoryFormat::Contiguous); // own the pixels: `f` dies with this scope
    if (swapsPlanes())
        t = t.flip(0);
    normaliseInPlace(t.unsqueeze(0));
    return t;
}

bool Preprocessor::swapsPlanes() const
{
    return spec_.channels == 3 && spec_.order == ChannelOrder::Bgr;
}

torch::Tensor Preprocessor::inModelOrder(const torch::Tensor &rgb) const
{
    if (!swapsPlanes() || rgb.dim() < 3 || rgb.size(rgb.dim() - 3) != 3)
        return rgb;
    return rgb.flip(rgb.dim() - 3);
}

void Preprocessor::normaliseInPlace(const torch::Tensor &batch) const
{
    if (batch.scalar_type() != torch::kFloat32 || !batch.is_contiguous() || batch.dim() != 4 ||
        batch.size(1) != spec_.channels) {
        for (int c = 0; c < spec_.channels; ++c)
            batch.select(1, c).mul_(spec_.range).sub_(spec_.mean[c]).div_(spec_.std[c]);
        return;
    }
    // A plain loop, not ATen ops: the batch reader calls this on its prefetch thread, where each ATen parallel
    // region would wake a second OpenMP team that competes with the forward pass's. Same float arithmetic, one
    // rounding per step, as the three ops.
    const std::int64_t images = batch.size(0), plane = batch.size(2) * batch.size(3);
    float *p = batch.data_ptr<float>();
    for (std::int64_t n = 0; n < images; ++n)
        for (int c = 0; c < spec_.channels; ++c) {
            const float range = spec_.range, mean = spec_.mean[c], std = spec_.std[c];
            for (std::int64_t i = 0; i < plane; ++i, ++p) {
                const float scaled = *p * range;
                const float centred = scaled - mean;
                *p = centred / std;
            }
        }
}

void Preprocessor::copyInto(const cv::Mat &fitted, const torch::Tensor &chw)
{
    const int channels = fitted.channels();
    float *out = chw.data_ptr<float>();
    const std::int64_t plane = static_cast<std::int64_t>(fitted.rows) * fitted.cols;
    for (int y = 0; y < fitted.rows; ++y) {
        const float *row = fitted.ptr<float>(y);
        for (int x = 0; x < fitted.cols; ++x)
            for (int c = 0; c < channels; ++c)
                out[c * plane + static_cast<std::int64_t>(y) * fitted.cols + x] = row[x * channels + c];
    }
}

torch::Tensor Preprocessor::tensor(const cv::Mat &decoded) const
{
    return normalise(fit(decoded));
}

torch::Tensor Preprocessor::rgb(const cv::Mat &fitted)
{
    cv::Mat fit = fitted.isContinuous() ? fitted : fitted.clone();
    torch::Tensor t = torch::from_blob(fit.data, {fit.rows, fit.cols, fit.channels()}, torch::kFloat32)
                          .permute({2, 0, 1})
                          .clone();
    return t.size(0) == 1 ? t.repeat({3, 1, 1}) : t;
}

} // namespace convscope
