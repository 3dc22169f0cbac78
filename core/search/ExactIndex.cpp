#include "search/ExactIndex.h"

#include "common/EnumNames.h"
#include "common/Error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>

namespace convscope {

namespace {

constexpr EnumName<SearchIndex::Metric> kMetrics[] = {
    {SearchIndex::Metric::L2, "l2"}, {SearchIndex::Metric::L1, "l1"}, {SearchIndex::Metric::Cosine, "cosine"}};

} // namespace

const char *SearchIndex::metricName(Metric m)
{
    return nameOf(kMetrics, m);
}

SearchIndex::Metric SearchIndex::parseMetric(const std::string &name)
{
    return parseName(kMetrics, name, "metric");
}

ExactIndex::ExactIndex(std::int64_t dims, Metric metric) : dims_(dims), metric_(metric)
{
    if (dims <= 0)
        throw UsageError("an index needs vectors of at least one dimension");
    reserve(1024);
}

void ExactIndex::reserve(std::int64_t rows)
{
    if (data_.defined() && data_.size(0) >= rows)
        return;
    const std::int64_t capacity = std::max<std::int64_t>(rows, data_.defined() ? data_.size(0) * 2 : rows);
    torch::Tensor data = torch::zeros({capacity, dims_});
    torch::Tensor norms = torch::zeros({capacity});
    if (count_ > 0) {
        data.narrow(0, 0, count_).copy_(data_.narrow(0, 0, count_));
        norms.narrow(0, 0, count_).copy_(norms_.narrow(0, 0, count_));
    }
    data_ = data;
    norms_ = norms;
}

void ExactIndex::add(const float *vectors, std::int64_t n, const std::int64_t *ids)
{
    if (n <= 0)
        return;
    reserve(count_ + n);
    torch::Tensor x = torch::from_blob(const_cast<float *>(vectors), {n, dims_}, torch::kFloat32);
    if (metric_ == Metric::Cosine)
        x = x / x.norm(2, 1, true).clamp_min(1e-12);
    data_.narrow(0, count_, n).copy_(x);
    norms_.narrow(0, count_, n).copy_(x.pow(2).sum(1));
    ids_.insert(ids_.end(), ids, ids + n);
    count_ += n;
}

void ExactIndex::search(const float *queries, std::int64_t nq, int k, float *distances, std::int64_t *ids) const
{
    if (nq <= 0 || k <= 0)
        return;
    torch::NoGradGuard noGrad;
    const std::int64_t kk = std::min<std::int64_t>(k, count_);
    torch::Tensor q = torch::from_blob(const_cast<float *>(queries), {nq, dims_}, torch::kFloat32);
    if (metric_ == Metric::Cosine)
        q = q / q.norm(2, 1, true).clamp_min(1e-12);
    torch::Tensor dist = torch::empty({nq, kk});
    torch::Tensor found = torch::empty({nq, kk}, torch::kInt64);
    const torch::Tensor db = data_.narrow(0, 0, count_);
    // Blocks of queries keep the distance matrix in cache-friendly sizes (256 × N floats at most per block).
    const std::int64_t block = std::max<std::int64_t>(1, std::min<std::int64_t>(256, (1 << 24) / std::max<std::int64_t>(1, count_)));
    for (std::int64_t q0 = 0; q0 < nq && kk > 0; q0 += block) {
        const std::int64_t m = std::min(block, nq - q0);
        const torch::Tensor qb = q.narrow(0, q0, m);
        torch::Tensor d;
        // One query reads the whole database once: a matrix-vector product (GEMV) streams it at memory speed,
        // where a 1-row GEMM is about twice as slow. Blocks of queries use one GEMM.
        const bool single = m == 1;
        switch (metric_) {
        case Metric::L2: // ‖x‖² − 2 q·x, ranked; ‖q‖² added back for the true distance
            if (single)
                d = db.mv(qb[0]).mul_(-2.0).add_(norms_.narrow(0, 0, count_)).unsqueeze(0);
            else
                d = torch::addmm(norms_.narrow(0, 0, count_).unsqueeze(0), qb, db.t(), 1.0, -2.0);
            break;
        case Metric::Cosine:
            d = single ? db.mv(qb[0]).neg_().add_(1.0).unsqueeze(0)
                       : torch::addmm(torch::ones({1, 1}), qb, db.t(), 1.0, -1.0);
            break;
        case Metric::L1: d = torch::cdist(qb, db, 1.0); break;
        }
        auto [values, index] = d.topk(kk, 1, false, true);
        if (metric_ == Metric::L2) // only the k kept need the query's norm (and rounding clamped at 0)
            values.add_(qb.pow(2).sum(1, true)).clamp_min_(0);
        dist.narrow(0, q0, m).copy_(values);
        found.narrow(0, q0, m).copy_(index);
    }
    const float inf = std::numeric_limits<float>::infinity();
    auto dv = dist.accessor<float, 2>();
    auto fv = found.accessor<std::int64_t, 2>();
    for (std::int64_t i = 0; i < nq; ++i)
        for (int j = 0; j < k; ++j) {
            const bool have = j < kk;
            distances[i * k + j] = have ? dv[i][j] : inf;
            ids[i * k + j] = have ? ids_[static_cast<size_t>(fv[i][j])] : -1;
        }
}

namespace {
constexpr char kTag[8] = {'C', 'S', 'E', 'X', 'A', 'C', 'T', '1'};
}

void ExactIndex::save(const std::string &path) const
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    const std::int64_t header[3] = {dims_, static_cast<std::int64_t>(metric_), count_};
    out.write(kTag, sizeof kTag);
    out.write(reinterpret_cast<const char *>(header), sizeof header);
    out.write(reinterpret_cast<const char *>(ids_.data()), static_cast<std::streamsize>(ids_.size() * 8));
    const torch::Tensor rows = data_.narrow(0, 0, count_).contiguous();
    out.write(reinterpret_cast<const char *>(rows.data_ptr<float>()),
              static_cast<std::streamsize>(rows.numel() * 4));
    out.flush();
    if (!out)
        throw IoError("cannot write the index '" + path + "' (disk full or not writable)");
}

std::unique_ptr<ExactIndex> ExactIndex::read(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    char tag[8];
    std::int64_t header[3];
    in.read(tag, sizeof tag);
    in.read(reinterpret_cast<char *>(header), sizeof header);
    if (!in || std::memcmp(tag, kTag, sizeof tag) != 0 || header[0] <= 0 || header[2] < 0 || header[1] < 0 ||
        header[1] > 2)
        throw DataError("'" + path + "' is not a Convscope exact index");
    // The header's counts must match the file's size before anything is allocated for them.
    const std::int64_t headerBytes = static_cast<std::int64_t>(sizeof tag + sizeof header);
    in.seekg(0, std::ios::end);
    const std::int64_t rest = static_cast<std::int64_t>(in.tellg()) - headerBytes;
    in.seekg(headerBytes);
    const std::int64_t rowBytes = 8 + 4 * header[0];
    if (header[0] > (std::int64_t{1} << 24) || rest < 0 || header[2] > rest / rowBytes || header[2] * rowBytes != rest)
        throw DataError("the index '" + path + "' is truncated or damaged (its header announces " +
                        std::to_string(header[2]) + " rows of " + std::to_string(header[0]) + " values, its data holds " +
                        std::to_string(std::max<std::int64_t>(rest, 0)) + " bytes)");
    auto index = std::make_unique<ExactIndex>(header[0], static_cast<Metric>(header[1]));
    std::vector<std::int64_t> ids(static_cast<size_t>(header[2]));
    std::vector<float> rows(static_cast<size_t>(header[2] * header[0]));
    in.read(reinterpret_cast<char *>(ids.data()), static_cast<std::streamsize>(ids.size() * 8));
    in.read(reinterpret_cast<char *>(rows.data()), static_cast<std::streamsize>(rows.size() * 4));
    if (!in)
        throw DataError("the index '" + path + "' is truncated");
    // Rows were stored as indexed (normalised for cosine): add them back without normalising twice.
    const Metric m = index->metric_;
    index->metric_ = Metric::L2;
    index->add(rows.data(), header[2], ids.data());
    index->metric_ = m;
    return index;
}

} // namespace convscope
