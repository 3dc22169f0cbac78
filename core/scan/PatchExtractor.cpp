#include "scan/PatchExtractor.h"

#include "common/Error.h"

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace convscope {

PatchExtractor::PatchExtractor(const ImageSource &source, Preprocessor preprocessor, size_t cacheImages)
    : source_(source), pre_(std::move(preprocessor)), capacity_(std::max<size_t>(1, cacheImages))
{
}

void PatchExtractor::paddingColor(std::int64_t y, std::int64_t x, float rgb[3])
{
    const bool light = ((y / 2) + (x / 2)) % 2 == 0;
    rgb[0] = light ? 0.16f : 0.11f;
    rgb[1] = light ? 0.21f : 0.15f;
    rgb[2] = light ? 0.36f : 0.27f;
}

torch::Tensor PatchExtractor::fitted(std::int64_t image)
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto it = cache_.find(image); it != cache_.end()) {
            order_.splice(order_.begin(), order_, it->second.second);
            return it->second.first;
        }
    }
    if (image < 0 || image >= source_.size())
        throw DataError("no image " + std::to_string(image) + " in the dataset (" + std::to_string(source_.size()) +
                        " images): was the dataset changed since the scan?");
    torch::Tensor t = Preprocessor::rgb(pre_.fit(source_.image(image)));
    std::lock_guard<std::mutex> lock(mutex_);
    order_.push_front(image);
    cache_[image] = {t, order_.begin()};
    while (cache_.size() > capacity_) {
        cache_.erase(order_.back());
        order_.pop_back();
    }
    return t;
}

torch::Tensor PatchExtractor::whole(std::int64_t image)
{
    return fitted(image);
}

torch::Tensor PatchExtractor::crop(std::int64_t image, const ReceptiveField::Rect &r)
{
    return cropOf(fitted(image), r);
}

torch::Tensor PatchExtractor::cropOf(const torch::Tensor &img, const ReceptiveField::Rect &r)
{
    const std::int64_t h = r.height(), w = r.width(), H = img.size(1), W = img.size(2);
    torch::Tensor out = torch::empty({3, h, w});
    auto o = out.accessor<float, 3>();
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
            float rgb[3];
            paddingColor(r.y0 + y, r.x0 + x, rgb);
            for (int c = 0; c < 3; ++c)
                o[c][y][x] = rgb[c];
        }
    const std::int64_t y0 = std::max<std::int64_t>(r.y0, 0), y1 = std::min(r.y1, H);
    const std::int64_t x0 = std::max<std::int64_t>(r.x0, 0), x1 = std::min(r.x1, W);
    if (y1 > y0 && x1 > x0)
        out.narrow(1, y0 - r.y0, y1 - y0).narrow(2, x0 - r.x0, x1 - x0).copy_(
            img.narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0));
    return out;
}

torch::Tensor PatchExtractor::stackPadded(const std::vector<torch::Tensor> &tiles)
{
    std::int64_t h = 1, w = 1;
    for (const auto &t : tiles) {
        h = std::max(h, t.size(1));
        w = std::max(w, t.size(2));
    }
    torch::Tensor out = torch::full({static_cast<std::int64_t>(tiles.size()), 3, h, w}, 0.06f);
    for (size_t i = 0; i < tiles.size(); ++i)
        out[static_cast<std::int64_t>(i)].narrow(1, 0, tiles[i].size(1)).narrow(2, 0, tiles[i].size(2)).copy_(tiles[i]);
    return out;
}

torch::Tensor PatchExtractor::mosaic(const std::vector<torch::Tensor> &patches, int columns, int slots)
{
    if (patches.empty() && slots <= 0)
        throw UsageError("an empty mosaic");
    const std::int64_t h = patches.empty() ? 1 : patches[0].size(1), w = patches.empty() ? 1 : patches[0].size(2);
    columns = std::max(1, columns);
    slots = std::max(slots, static_cast<int>(patches.size()));
    const int rows = (slots + columns - 1) / columns;
    torch::Tensor out = torch::full({3, rows * (h + 1) - 1, columns * (w + 1) - 1}, 0.06f);
    for (size_t i = 0; i < patches.size(); ++i) {
        const std::int64_t r = static_cast<std::int64_t>(i) / columns, c = static_cast<std::int64_t>(i) % columns;
        out.narrow(1, r * (h + 1), h).narrow(2, c * (w + 1), w).copy_(patches[i]);
    }
    return out;
}

torch::Tensor PatchExtractor::shrink(const torch::Tensor &patch, int maxSide)
{
    const std::int64_t h = patch.size(1), w = patch.size(2);
    if (maxSide <= 0 || std::max(h, w) <= maxSide)
        return patch;
    const double scale = static_cast<double>(maxSide) / static_cast<double>(std::max(h, w));
    const std::int64_t nh = std::max<std::int64_t>(1, std::lround(h * scale));
    const std::int64_t nw = std::max<std::int64_t>(1, std::lround(w * scale));
    namespace F = torch::nn::functional;
    return F::interpolate(patch.unsqueeze(0), F::InterpolateFuncOptions().size(std::vector<std::int64_t>{nh, nw})
                                                  .mode(torch::kArea))
        .squeeze(0)
        .contiguous();
}

} // namespace convscope
