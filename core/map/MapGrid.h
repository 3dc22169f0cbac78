#pragma once
// Snaps a 2-D embedding onto a regular grid (the well-known "t-SNE grid" posters): ⌈√N⌉ columns; points are cut
// into rows by y, and each row is ordered by x. Neighbours stay near each other, every cell holds one image.
// An approximation of the optimal assignment (which costs O(N³)); fast enough for a million points.
#include <torch/types.h>

namespace convscope {

class MapGrid {
public:
    /// N×2 grid positions (column, row) as floats, for `coords` N×2.
    static torch::Tensor snap(const torch::Tensor &coords);
};

} // namespace convscope
