#pragma once
// A quadtree over 2-D points with every cell's centre of mass and count, for Barnes-Hut t-SNE repulsion. Built by
// recursive partitioning of an index array (a cell's points are contiguous); the tree borrows the positions, which
// must outlive it and stay unchanged.
#include <cstdint>
#include <vector>

namespace convscope {

class QuadTree {
public:
    /// `y`: N×2 positions, row-major.
    explicit QuadTree(const std::vector<double> &y);

    /// Unnormalised repulsion Σ_j q² (y_self − y_j) on point `self` (added to fx, fy) and its share of
    /// Z = Σ_j q (added to z), q = 1 / (1 + d²); cells with 4·half² < θ²·d² count as one point at their centre.
    void force(std::int64_t self, double theta2, double &fx, double &fy, double &z) const;

private:
    struct Node {
        double half = 0, mx = 0, my = 0;
        std::int64_t begin = 0, end = 0, child = -1;
    };
    void build(std::size_t at, std::int64_t begin, std::int64_t end, double cx, double cy, double half, int depth);

    const std::vector<double> &y_;
    std::vector<std::int64_t> order_;
    std::vector<Node> nodes_;
};

} // namespace convscope
