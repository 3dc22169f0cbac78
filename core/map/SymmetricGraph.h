#pragma once
// A symmetric sparse graph (CSR rows sorted by column) from each point's directed nearest-neighbour edges: every
// edge i → o with weight w enters row i and row o; a pair found from both ends is merged by `merge(w_io, w_oi)`
// (t-SNE: the sum; UMAP: the fuzzy union a + b − a·b). Memory: 2·N·k entries at most. Rows are sorted in parallel;
// the result does not depend on the thread count.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace convscope {

template <class Value>
struct SymmetricGraph {
    std::vector<std::int64_t> rowStart; ///< N + 1 offsets into cols / values
    std::vector<std::int64_t> cols;
    std::vector<Value> values;

    /// `neighbour(i, j)` → id of point i's j-th neighbour (< 0: none, skipped); `weight(i, j)` → its weight.
    template <class Neighbour, class Weight, class Merge>
    static SymmetricGraph build(std::int64_t n, int k, Neighbour neighbour, Weight weight, Merge merge)
    {
        std::vector<std::int64_t> start(static_cast<std::size_t>(n + 1), 0);
        for (std::int64_t i = 0; i < n; ++i)
            for (int j = 0; j < k; ++j) {
                const std::int64_t o = neighbour(i, j);
                if (o < 0)
                    continue;
                ++start[static_cast<std::size_t>(i + 1)];
                ++start[static_cast<std::size_t>(o + 1)];
            }
        for (std::int64_t i = 0; i < n; ++i)
            start[static_cast<std::size_t>(i + 1)] += start[static_cast<std::size_t>(i)];
        std::vector<std::pair<std::int64_t, Value>> entries(static_cast<std::size_t>(start.back()));
        {
            std::vector<std::int64_t> cursor(start.begin(), start.end() - 1);
            for (std::int64_t i = 0; i < n; ++i)
                for (int j = 0; j < k; ++j) {
                    const std::int64_t o = neighbour(i, j);
                    if (o < 0)
                        continue;
                    const Value w = weight(i, j);
                    entries[static_cast<std::size_t>(cursor[static_cast<std::size_t>(i)]++)] = {o, w};
                    entries[static_cast<std::size_t>(cursor[static_cast<std::size_t>(o)]++)] = {i, w};
                }
        }
        std::vector<std::int64_t> kept(static_cast<std::size_t>(n), 0);
        at::parallel_for(0, n, 256, [&](std::int64_t from, std::int64_t to) {
            for (std::int64_t i = from; i < to; ++i) {
                auto first = entries.begin() + start[static_cast<std::size_t>(i)];
                auto last = entries.begin() + start[static_cast<std::size_t>(i + 1)];
                std::sort(first, last, [](const auto &p, const auto &q) { return p.first < q.first; });
                auto out = first;
                for (auto it = first; it != last; ++it) {
                    if (out != first && (out - 1)->first == it->first)
                        (out - 1)->second = merge((out - 1)->second, it->second);
                    else
                        *out++ = *it;
                }
                kept[static_cast<std::size_t>(i)] = out - first;
            }
        });
        SymmetricGraph g;
        g.rowStart.assign(static_cast<std::size_t>(n + 1), 0);
        for (std::int64_t i = 0; i < n; ++i)
            g.rowStart[static_cast<std::size_t>(i + 1)] = g.rowStart[static_cast<std::size_t>(i)] + kept[static_cast<std::size_t>(i)];
        g.cols.resize(static_cast<std::size_t>(g.rowStart.back()));
        g.values.resize(g.cols.size());
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t e = 0; e < kept[static_cast<std::size_t>(i)]; ++e) {
                const auto &entry = entries[static_cast<std::size_t>(start[static_cast<std::size_t>(i)] + e)];
                g.cols[static_cast<std::size_t>(g.rowStart[static_cast<std::size_t>(i)] + e)] = entry.first;
                g.values[static_cast<std::size_t>(g.rowStart[static_cast<std::size_t>(i)] + e)] = entry.second;
            }
        return g;
    }
};

} // namespace convscope
