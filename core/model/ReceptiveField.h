#pragma once
// The region of the model's input that one unit of a layer can see: for a unit at map position (y, x) the input
// rows [offset_y + stride_y·y, … + size_y − 1] and likewise for columns. Offsets may be negative and spans may run
// past the image: that part is the layer's zero padding. Computed from the model's graph by ReceptiveFieldAnalyzer.
#include <cstdint>
#include <utility>
#include <string>

namespace convscope {

struct ReceptiveField {
    /// One axis of an affine field: unit p covers input [offset + stride·p, offset + stride·p + size − 1], of
    /// which only [lo, hi) is really seen: the reach of the layer's input map, whose last positions may stop short
    /// of the image edge (strides that do not divide the size, ceil-mode pools). `positions` is the map's extent.
    struct Axis {
        std::int64_t stride = 1;
        std::int64_t offset = 0;
        std::int64_t size = 1;
        std::int64_t positions = 1;
        std::int64_t lo = 0, hi = 1;
        /// [lo, hi) clipped to what the map's own units see: the input span the whole map depends on.
        std::pair<std::int64_t, std::int64_t> reach() const;
    };
    /// An input rectangle, half-open: rows [y0, y1), columns [x0, x1). May extend past the image.
    struct Rect {
        std::int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
        std::int64_t height() const { return y1 - y0; }
        std::int64_t width() const { return x1 - x0; }
        bool operator==(const Rect &o) const { return y0 == o.y0 && y1 == o.y1 && x0 == o.x0 && x1 == o.x1; }
    };

    enum class Scope {
        Local,  ///< each unit sees a window of the input (convolutions, pools, pointwise ops, sums, concatenations)
        Global, ///< every unit sees the whole image (global pooling, fully connected layers, squeeze-excitation)
    };

    Scope scope = Scope::Local;
    Axis y, x;
    /// False when the graph holds an op Convscope cannot follow spatially (reshapes, interpolation, loops...);
    /// the field is then taken as the whole image, which over-states it. `note` names the op.
    bool exact = true;
    std::string note;

    /// The window of the unit at map position (y, x), padding included (it may extend past the image: that part
    /// is what a patch crop shows as padding); the image region the map depends on when Global.
    Rect at(std::int64_t unitY, std::int64_t unitX) const;
    /// The input pixels the unit really depends on: the window clipped to the image and to the reach.
    Rect clippedAt(std::int64_t unitY, std::int64_t unitX) const;
    /// "11×11 px, stride 4", "whole image", "whole image (approximate: aten::view)".
    std::string describe() const;

    /// The input image itself: each pixel sees itself.
    static ReceptiveField identity(std::int64_t height, std::int64_t width);
    /// Every unit sees what `from` reaches (global pooling, flatten).
    static ReceptiveField global(const ReceptiveField &from);
    /// An op that cannot be followed: the whole image, marked approximate with `note`.
    static ReceptiveField unknown(std::int64_t height, std::int64_t width, std::string note);
    /// The union of two fields of one map (a residual sum, a concatenation): the smallest field holding both.
    static ReceptiveField unite(const ReceptiveField &a, const ReceptiveField &b);
};

} // namespace convscope
