#include "search/FaissIndex.h"

#include "common/Error.h"
#include "search/ExactIndex.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_io.h>

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <vector>

namespace convscope {

namespace {

std::vector<float> normalised(const float *x, std::int64_t n, std::int64_t d)
{
    std::vector<float> out(x, x + n * d);
    for (std::int64_t i = 0; i < n; ++i) {
        double s = 0;
        for (std::int64_t j = 0; j < d; ++j)
            s += static_cast<double>(out[i * d + j]) * out[i * d + j];
        const float inv = s > 0 ? static_cast<float>(1.0 / std::sqrt(s)) : 0.0f;
        for (std::int64_t j = 0; j < d; ++j)
            out[i * d + j] *= inv;
    }
    return out;
}

faiss::Index *inner(faiss::Index *index)
{
    auto *map = dynamic_cast<faiss::IndexIDMap2 *>(index);
    return map ? map->index : index;
}

} // namespace

FaissIndex::FaissIndex(std::int64_t dims, Metric metric, Options options)
    : dims_(dims), metric_(metric), options_(std::move(options))
{
    if (metric == Metric::L1)
        throw UsageError("approximate search supports the l2 and cosine metrics; use the exact index for l1");
    if (options_.kind != "hnsw" && options_.kind != "ivfpq")
        throw UsageError("unknown approximate index '" + options_.kind + "': choose hnsw or ivfpq");
    if (dims <= 0)
        throw UsageError("an index needs vectors of at least one dimension");
}

FaissIndex::~FaissIndex() = default;

std::int64_t FaissIndex::size() const
{
    return index_ ? index_->ntotal : 0;
}

void FaissIndex::build(std::int64_t n, const float *train)
{
    // Every FAISS object is owned by a unique_ptr until the one above it owns it: nothing leaks when a constructor
    // or the training throws (FAISS refuses, for instance, fewer training points than product-quantiser centroids).
    try {
        std::unique_ptr<faiss::Index> base;
        if (options_.kind == "hnsw") {
            auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(dims_), options_.hnswM);
            hnsw->hnsw.efConstruction = options_.efConstruction;
            base = std::move(hnsw);
        } else {
            base = trainedIvfPq(n, train);
        }
        auto map = std::make_unique<faiss::IndexIDMap2>(base.get());
        map->own_fields = true;
        base.release();
        index_ = std::move(map);
    } catch (const faiss::FaissException &e) {
        throw UsageError(std::string("cannot build the approximate index: ") + e.what());
    }
}

std::unique_ptr<faiss::Index> FaissIndex::trainedIvfPq(std::int64_t n, const float *train) const
{
    int nlist = options_.nlist;
    if (nlist <= 0)
        nlist = static_cast<int>(std::clamp(4.0 * std::sqrt(static_cast<double>(n)), 16.0, 65536.0));
    nlist = std::max(1, std::min<int>(nlist, static_cast<int>(n / 39)));
    int m = options_.pqBytes > 0 ? options_.pqBytes : static_cast<int>(std::max<std::int64_t>(1, dims_ / 4));
    while (m > 1 && dims_ % m != 0)
        --m;
    auto quantizer = std::make_unique<faiss::IndexFlatL2>(static_cast<int>(dims_));
    auto ivfpq = std::make_unique<faiss::IndexIVFPQ>(quantizer.get(), static_cast<int>(dims_),
                                                     static_cast<size_t>(nlist), static_cast<size_t>(m), 8);
    ivfpq->own_fields = true;
    quantizer.release();
    ivfpq->train(std::min<std::int64_t>(n, 256LL * nlist), train);
    if (options_.refine <= 0)
        return ivfpq;
    auto refine = std::make_unique<faiss::IndexRefineFlat>(ivfpq.get());
    refine->own_fields = true;
    ivfpq.release();
    refine->k_factor = static_cast<float>(options_.refine);
    return refine;
}

void FaissIndex::add(const float *vectors, std::int64_t n, const std::int64_t *ids)
{
    if (n <= 0)
        return;
    std::vector<float> unit;
    if (metric_ == Metric::Cosine) {
        unit = normalised(vectors, n, dims_);
        vectors = unit.data();
    }
    if (!index_) {
        if (options_.kind == "ivfpq" && n < 64)
            throw UsageError("an IVF-PQ index needs at least 64 vectors to learn its codes; use hnsw or exact");
        build(n, vectors);
    }
    try {
        index_->add_with_ids(n, vectors, ids);
    } catch (const faiss::FaissException &e) {
        throw UsageError(std::string("cannot add to the approximate index: ") + e.what());
    }
}

void FaissIndex::applySearchParameters() const
{
    faiss::Index *base = inner(index_.get());
    if (auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(base))
        hnsw->hnsw.efSearch = options_.efSearch;
    faiss::Index *ivfBase = base;
    if (auto *refine = dynamic_cast<faiss::IndexRefine *>(base)) {
        refine->k_factor = static_cast<float>(std::max(1, options_.refine));
        ivfBase = refine->base_index;
    }
    if (auto *ivf = dynamic_cast<faiss::IndexIVF *>(ivfBase))
        ivf->nprobe = static_cast<size_t>(options_.nprobe);
}

void FaissIndex::setSearchEffort(int effort)
{
    if (options_.kind == "hnsw")
        options_.efSearch = std::max(1, effort);
    else
        options_.nprobe = std::max(1, effort);
}

void FaissIndex::search(const float *queries, std::int64_t nq, int k, float *distances, std::int64_t *ids) const
{
    if (nq <= 0 || k <= 0)
        return;
    if (!index_) {
        for (std::int64_t i = 0; i < nq * k; ++i)
            distances[i] = INFINITY, ids[i] = -1;
        return;
    }
    std::vector<float> unit;
    if (metric_ == Metric::Cosine) {
        unit = normalised(queries, nq, dims_);
        queries = unit.data();
    }
    applySearchParameters();
    std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(nq * k));
    index_->search(nq, queries, k, distances, labels.data());
    for (std::int64_t i = 0; i < nq * k; ++i) {
        ids[i] = labels[static_cast<size_t>(i)];
        if (ids[i] < 0)
            distances[i] = INFINITY;
        else if (metric_ == Metric::Cosine)
            distances[i] *= 0.5f; // ‖a − b‖² = 2 − 2·cos for unit vectors
    }
}

void FaissIndex::save(const std::string &path) const
{
    if (!index_)
        throw UsageError("the index is empty");
    try {
        faiss::write_index(index_.get(), path.c_str());
    } catch (const faiss::FaissException &e) {
        throw IoError("cannot write the index '" + path + "': " + e.what());
    }
    const QJsonObject o{{"kind", QString::fromStdString(options_.kind)}, {"metric", metricName(metric_)},
                        {"dims", static_cast<qint64>(dims_)}, {"hnsw_m", options_.hnswM},
                        {"ef_construction", options_.efConstruction}, {"ef_search", options_.efSearch},
                        {"nlist", options_.nlist}, {"pq_bytes", options_.pqBytes}, {"nprobe", options_.nprobe},
                        {"refine", options_.refine}};
    QFile f(QString::fromStdString(path + ".json"));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(QJsonDocument(o).toJson()) < 0)
        throw IoError("cannot write '" + path + ".json': " + f.errorString().toStdString());
}

std::unique_ptr<FaissIndex> FaissIndex::read(const std::string &path)
{
    QFile f(QString::fromStdString(path + ".json"));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read '" + path + ".json': " + f.errorString().toStdString());
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    std::unique_ptr<FaissIndex> index(new FaissIndex());
    index->dims_ = o["dims"].toInteger();
    index->metric_ = parseMetric(o["metric"].toString().toStdString());
    index->options_.kind = o["kind"].toString().toStdString();
    index->options_.hnswM = o["hnsw_m"].toInt(32);
    index->options_.efConstruction = o["ef_construction"].toInt(64);
    index->options_.efSearch = o["ef_search"].toInt(96);
    index->options_.nlist = o["nlist"].toInt(0);
    index->options_.pqBytes = o["pq_bytes"].toInt(0);
    index->options_.nprobe = o["nprobe"].toInt(32);
    index->options_.refine = o["refine"].toInt(8);
    try {
        index->index_.reset(faiss::read_index(path.c_str()));
    } catch (const faiss::FaissException &e) {
        throw DataError("cannot read the index '" + path + "': " + e.what());
    }
    if (index->index_->d != index->dims_)
        throw DataError("the index '" + path + "' does not match its settings");
    return index;
}

std::unique_ptr<SearchIndex> SearchIndex::load(const std::string &path)
{
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read the index '" + path + "': " + f.errorString().toStdString());
    const QByteArray tag = f.read(8);
    f.close();
    if (tag == "CSEXACT1")
        return ExactIndex::read(path);
    return FaissIndex::read(path);
}

} // namespace convscope
