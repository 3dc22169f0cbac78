#pragma once
// Exact nearest neighbours by brute force, BLAS-backed: L2 as ‖x‖² − 2·x·q (+‖q‖²) from one matrix product per
// block of the database and of the queries, cosine from normalised dot products, L1 from blocked absolute
// differences. Top-k per query with a partial sort. Saved as a small binary file (header, ids, vectors).
#include "search/SearchIndex.h"

#include <torch/types.h>

namespace convscope {

class ExactIndex : public SearchIndex {
public:
    ExactIndex(std::int64_t dims, Metric metric);

    std::int64_t dims() const override { return dims_; }
    std::int64_t size() const override { return count_; }
    Metric metric() const override { return metric_; }
    std::string kind() const override { return "exact"; }
    void add(const float *vectors, std::int64_t n, const std::int64_t *ids) override;
    void search(const float *queries, std::int64_t nq, int k, float *distances, std::int64_t *ids) const override;
    void save(const std::string &path) const override;
    /// Reads a file written by save() (after its 8-byte kind tag was checked by SearchIndex::load).
    static std::unique_ptr<ExactIndex> read(const std::string &path);

private:
    void reserve(std::int64_t rows);

    std::int64_t dims_;
    Metric metric_;
    std::int64_t count_ = 0;
    torch::Tensor data_;  ///< capacity×dims (first count_ rows used); normalised rows for cosine
    torch::Tensor norms_; ///< capacity: ‖x‖² (L2)
    std::vector<std::int64_t> ids_;
};

} // namespace convscope
