#pragma once
// Approximate nearest neighbours through FAISS (Debian's libfaiss-dev): HNSW graphs (fast, accurate, memory = the
// vectors + the graph) or IVF-PQ (product-quantised codes in inverted lists, 16–32 bytes a vector; re-ranked exactly
// when `refine` keeps the full vectors too). Metrics: L2, and cosine (vectors normalised, ranked by L2; distances
// reported as 1 − cos). Saved with FAISS's own writer plus a small JSON of our settings beside it.
#include "search/SearchIndex.h"

#include <memory>

namespace faiss {
struct Index;
}

namespace convscope {

class FaissIndex : public SearchIndex {
public:
    struct Options {
        std::string kind = "hnsw"; ///< "hnsw" or "ivfpq"
        int hnswM = 32;            ///< HNSW: links per node (more = better recall, more memory, slower build)
        int efConstruction = 64;   ///< HNSW: build-time beam width (more = better graph, slower build)
        int efSearch = 96;         ///< HNSW: search beam width (more = better recall, slower queries)
        int nlist = 0;             ///< IVF-PQ: inverted lists; 0 = 4·√N of the first batch (16 … 65536)
        int pqBytes = 0;           ///< IVF-PQ: bytes per code (sub-quantisers of 8 bits); 0 = dims / 4
        int nprobe = 32;           ///< IVF-PQ: lists visited per query (more = better recall, slower)
        int refine = 8;            ///< IVF-PQ: re-rank k·refine candidates by exact distance (0 = codes only)
    };

    /// Throws UsageError for L1 (approximate search supports L2 and cosine) or an unknown kind.
    FaissIndex(std::int64_t dims, Metric metric, Options options);
    ~FaissIndex() override;

    std::int64_t dims() const override { return dims_; }
    std::int64_t size() const override;
    Metric metric() const override { return metric_; }
    std::string kind() const override { return options_.kind; }
    void add(const float *vectors, std::int64_t n, const std::int64_t *ids) override;
    void search(const float *queries, std::int64_t nq, int k, float *distances, std::int64_t *ids) const override;
    void save(const std::string &path) const override;
    /// Reads `path` (FAISS) and `path`.json (settings). Throws IoError/DataError.
    static std::unique_ptr<FaissIndex> read(const std::string &path);

    const Options &options() const { return options_; }
    /// Changes the query-time effort (efSearch for HNSW, nprobe for IVF-PQ) of a built index.
    void setSearchEffort(int effort);

private:
    FaissIndex() = default;
    void build(std::int64_t n, const float *train);
    /// An IVF-PQ index (refined when asked) trained on the first rows of `train`.
    std::unique_ptr<faiss::Index> trainedIvfPq(std::int64_t n, const float *train) const;
    void applySearchParameters() const;

    std::int64_t dims_ = 0;
    Metric metric_ = Metric::L2;
    Options options_;
    std::unique_ptr<faiss::Index> index_; ///< IndexIDMap2 over the HNSW or (refined) IVF-PQ index
};

} // namespace convscope
