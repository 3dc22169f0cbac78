#pragma once
// Crops dataset images, as the model sees them (resized/cropped per the input spec, before normalisation), at a
// unit's receptive field — Zeiler & Fergus's top-9 patches. Where the field runs past the image border the missing
// part is drawn as a dark blue checkerboard, so padding is never mistaken for image content. Recently used images are
// cached (the top-k of a layer's units share many images).
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "model/ReceptiveField.h"

#include <torch/types.h>

#include <list>
#include <mutex>
#include <unordered_map>

namespace convscope {

class PatchExtractor {
public:
    /// `cacheImages`: fitted images kept in memory (each is the model's input size).
    PatchExtractor(const ImageSource &source, Preprocessor preprocessor, size_t cacheImages = 512);

    /// 3×h×w float32 in [0, 1] (grey images repeated to RGB), h×w = the rectangle's size. Throws DataError when
    /// the image cannot be read.
    torch::Tensor crop(std::int64_t image, const ReceptiveField::Rect &rect);
    /// The same crop of any 3×H×W tensor in [0, 1] (a rendered reconstruction): outside the tensor, padding checks.
    static torch::Tensor cropOf(const torch::Tensor &rgb, const ReceptiveField::Rect &rect);
    /// The whole image as the model sees it, 3×H×W in [0, 1].
    torch::Tensor whole(std::int64_t image);

    /// A 3×h×w patch scaled down (area averaging, aspect kept) so its longer side is at most `maxSide`; as it is
    /// when it already fits or `maxSide` ≤ 0. Sheets of many units crop at the size they are shown with it, so a
    /// wide layer's receptive fields (hundreds of pixels) never sit in memory at full size.
    static torch::Tensor shrink(const torch::Tensor &patch, int maxSide);
    /// Patches (each 3×h×w, same size) in a `columns`-wide mosaic with 1-pixel dark gaps; `slots` cells (empty
    /// ones dark) so units with fewer than k images keep the same layout.
    static torch::Tensor mosaic(const std::vector<torch::Tensor> &patches, int columns, int slots);
    /// Stacks 3×h×w tiles of possibly different sizes into N×3×H×W, padding each to the largest with the mosaic's
    /// dark gap colour at the bottom and right.
    static torch::Tensor stackPadded(const std::vector<torch::Tensor> &tiles);
    /// The padding pattern at (y, x) of a crop: two dark blues in 2-pixel checks.
    static void paddingColor(std::int64_t y, std::int64_t x, float rgb[3]);

private:
    torch::Tensor fitted(std::int64_t image); ///< 3×H×W

    const ImageSource &source_;
    Preprocessor pre_;
    size_t capacity_;
    std::mutex mutex_;
    std::list<std::int64_t> order_; ///< most recent first
    std::unordered_map<std::int64_t, std::pair<torch::Tensor, std::list<std::int64_t>::iterator>> cache_;
};

} // namespace convscope
