#pragma once
// Nearest-neighbour search over descriptors: one small interface that the exact index (ExactIndex, BLAS-backed)
// and the approximate ones (FaissIndex: HNSW, IVF-PQ) implement. Vectors are rows of float32, `dims` wide; ids
// are the caller's (dataset image indices). Results are sorted by increasing distance.
//
// Thread safety: search() may run concurrently with other search() calls; add() needs exclusive access.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace convscope {

class SearchIndex {
public:
    enum class Metric {
        L2,     ///< squared Euclidean distance
        L1,     ///< sum of absolute differences (exact index only)
        Cosine, ///< 1 − cosine similarity
    };
    static const char *metricName(Metric m);
    static Metric parseMetric(const std::string &name); ///< "l2", "l1", "cosine"; UsageError otherwise

    virtual ~SearchIndex() = default;

    virtual std::int64_t dims() const = 0;
    virtual std::int64_t size() const = 0;
    virtual Metric metric() const = 0;
    /// "exact", "hnsw", "ivfpq".
    virtual std::string kind() const = 0;

    /// Adds `n` vectors (n×dims, row-major) with their ids. Approximate indexes that need training train on the
    /// first batch added. Indexes grow: adding later needs no rebuild.
    virtual void add(const float *vectors, std::int64_t n, const std::int64_t *ids) = 0;
    /// For each of `nq` queries, the `k` nearest: distances[nq×k] and ids[nq×k] (id −1 and distance +inf where
    /// fewer than k exist).
    virtual void search(const float *queries, std::int64_t nq, int k, float *distances, std::int64_t *ids) const = 0;

    /// Writes the index to `path` (a file); SearchIndex::load() reads any kind back. Throws IoError.
    virtual void save(const std::string &path) const = 0;
    static std::unique_ptr<SearchIndex> load(const std::string &path);
};

} // namespace convscope
