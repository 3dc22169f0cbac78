#pragma once
// The part of a 2-D map worth framing on screen or on a poster: per axis, from the `tail` to the 1 − `tail` quantile
// of the points, widened by `widen` of that span on each side, never beyond the points' own range. A few far-flung
// points (UMAP throws tiny disconnected components far away) then no longer shrink the rest to a speck; they fall
// outside the frame (the view shows them when zoomed out, the poster pins them to its border).
#include <vector>

namespace convscope {

class MapExtent {
public:
    struct Options {
        double tail = 0.002; ///< share of points per side that may fall outside before the frame widens for them
        double widen = 0.05; ///< margin added on each side, as a share of the quantile span
    };

    /// Empty inputs give the unit square; x and y must be the same length.
    static MapExtent of(const std::vector<double> &x, const std::vector<double> &y, Options options);
    static MapExtent of(const std::vector<double> &x, const std::vector<double> &y) { return of(x, y, Options{}); }

    double left = 0, top = 0, right = 1, bottom = 1;
    double width() const { return right - left; }
    double height() const { return bottom - top; }
};

} // namespace convscope
