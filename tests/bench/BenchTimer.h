#pragma once
// Tiny helpers for benchmarks: median wall time of repeated runs.
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace bench {

inline double seconds(const std::function<void()> &fn)
{
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

/// Runs a and b alternately `reps` times after `warmup` runs each; returns {median a, median b}.
inline std::pair<double, double> alternate(const std::function<void()> &a, const std::function<void()> &b, int reps,
                                           int warmup = 3)
{
    for (int i = 0; i < warmup; ++i) {
        a();
        b();
    }
    std::vector<double> ta, tb;
    for (int i = 0; i < reps; ++i) {
        ta.push_back(seconds(a));
        tb.push_back(seconds(b));
    }
    return {median(ta), median(tb)};
}

} // namespace bench
