// Similar-image search speed. Exact 10-NN over 100,000 × 128-d descriptors, one query at a time and in batches,
// against a plain numpy/BLAS brute force run on the same data in this run (tests/bench/search_reference.py).
// Goals: ≤ 10 ms per query and within 1.2× of numpy; the same neighbours. Then approximate search over
// 1,000,000 × 128-d (HNSW, and IVF-PQ with exact re-ranking): build time and memory, recall@10 against exact
// search, milliseconds per query. Goal: recall@10 ≥ 0.95 at ≤ 5 ms per query.
// `SearchBench --exact-only` skips the 1M part (about 10 minutes on 2 cores).
// Data: clustered Gaussian descriptors (1,000 centres), L2-normalised like the descriptor pipeline's output.
#include "BenchTimer.h"
#include "search/ExactIndex.h"
#include "search/FaissIndex.h"
#include "common/NpyFile.h"
#include "common/RuntimePolicy.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <torch/torch.h>

#include <cstdio>
#include <malloc.h>
#include <numeric>
#include <set>
#include <string>

using namespace convscope;

namespace {

torch::Tensor descriptors(std::int64_t n, std::uint64_t seed, const torch::Tensor &centres)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const torch::Tensor which = torch::randint(centres.size(0), {n}, gen);
    torch::Tensor x = centres.index_select(0, which) + 0.35 * torch::randn({n, centres.size(1)}, gen);
    return (x / x.norm(2, 1, true)).contiguous();
}

/// Heap bytes in use, in MB (what an index allocates; unaffected by freed memory the allocator keeps).
long heapMb()
{
    return static_cast<long>(mallinfo2().uordblks / (1024 * 1024));
}

double recall(const std::vector<std::int64_t> &found, const std::vector<std::int64_t> &truth, int k)
{
    std::int64_t hits = 0;
    for (size_t q = 0; q < truth.size() / static_cast<size_t>(k); ++q) {
        std::set<std::int64_t> t(truth.begin() + static_cast<std::ptrdiff_t>(q * k),
                                 truth.begin() + static_cast<std::ptrdiff_t>(q * k + k));
        for (int j = 0; j < k; ++j)
            hits += t.count(found[q * k + static_cast<size_t>(j)]);
    }
    return static_cast<double>(hits) / static_cast<double>(truth.size());
}

} // namespace

int main(int argc, char **argv)
{
    const bool exactOnly = argc > 1 && std::string(argv[1]) == "--exact-only"; // skip the 1M part (~10 min)
    RuntimePolicy::init(argv);
    const int k = 10, dims = 128;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
    const torch::Tensor centres = torch::randn({1000, dims}, gen);

    // --- Exact, 100k.
    const std::int64_t n = 100000, nq = 200;
    const torch::Tensor db = descriptors(n, 1, centres), queries = descriptors(nq, 2, centres);
    std::vector<std::int64_t> ids(static_cast<size_t>(n));
    std::iota(ids.begin(), ids.end(), 0);
    ExactIndex exact(dims, SearchIndex::Metric::L2);
    exact.add(db.data_ptr<float>(), n, ids.data());
    std::vector<float> dist(static_cast<size_t>(nq * k));
    std::vector<std::int64_t> found(static_cast<size_t>(nq * k));
    std::vector<double> perQuery;
    for (int rep = 0; rep < 2; ++rep) // the first pass warms caches and threads
        for (std::int64_t q = 0; q < nq; ++q)
            perQuery.push_back(bench::seconds([&] {
                exact.search(queries[q].data_ptr<float>(), 1, k, dist.data() + q * k, found.data() + q * k);
            }));
    perQuery.erase(perQuery.begin(), perQuery.begin() + nq);
    const double oneMs = bench::median(perQuery) * 1000;
    const double batchMs = bench::seconds([&] { exact.search(queries.data_ptr<float>(), nq, k, dist.data(), found.data()); }) *
                           1000 / static_cast<double>(nq);
    QTemporaryDir tmp;
    NpyFile::write(tmp.filePath("db.npy").toStdString(), db);
    NpyFile::write(tmp.filePath("q.npy").toStdString(), queries);
    QProcess py;
    py.start("/usr/bin/python3", {CONVSCOPE_SOURCE_DIR "/tests/bench/search_reference.py", tmp.filePath("db.npy"),
                                  tmp.filePath("q.npy"), QString::number(k)});
    py.waitForFinished(600000);
    const QJsonObject ref = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
    const double npMs = ref["ms"].toDouble();
    std::int64_t same = 0;
    const QJsonArray refIds = ref["ids"].toArray();
    for (std::int64_t q = 0; q < nq && q < refIds.size(); ++q)
        for (int j = 0; j < k; ++j)
            same += refIds[static_cast<int>(q)].toArray()[j].toInteger() == found[q * k + j] ? 1 : 0;
    std::printf("exact 10-NN over %lld x %d (threads %d):\n", static_cast<long long>(n), dims, at::get_num_threads());
    std::printf("  one query at a time: %.2f ms per query (goal <= 10); numpy/BLAS brute force %.2f ms; "
                "ratio convscope/numpy %.2f (goal <= 1.2)\n", oneMs, npMs, oneMs / npMs);
    std::printf("  batches of %lld queries: %.3f ms per query\n", static_cast<long long>(nq), batchMs);
    std::printf("  same neighbours as numpy: %lld of %lld\n", static_cast<long long>(same),
                static_cast<long long>(nq * k));

    if (exactOnly)
        return 0;
    // --- Approximate, 1M.
    const std::int64_t big = 1000000, bq = 1000;
    const torch::Tensor bigDb = descriptors(big, 3, centres), bigQ = descriptors(bq, 4, centres);
    std::vector<std::int64_t> bigIds(static_cast<size_t>(big));
    std::iota(bigIds.begin(), bigIds.end(), 0);
    std::vector<float> bd(static_cast<size_t>(bq * k));
    std::vector<std::int64_t> truth(static_cast<size_t>(bq * k)), got(static_cast<size_t>(bq * k));
    {
        ExactIndex ex(dims, SearchIndex::Metric::L2);
        ex.add(bigDb.data_ptr<float>(), big, bigIds.data());
        const double s = bench::seconds([&] { ex.search(bigQ.data_ptr<float>(), bq, k, bd.data(), truth.data()); });
        std::printf("exact over %lld: %.1f ms per query in batches (the ground truth)\n", static_cast<long long>(big),
                    s * 1000 / static_cast<double>(bq));
    }
    for (const std::string kind : {"hnsw", "ivfpq"}) {
        FaissIndex::Options o;
        o.kind = kind;
        const long before = heapMb();
        FaissIndex ann(dims, SearchIndex::Metric::L2, o);
        const double buildS = bench::seconds([&] { ann.add(bigDb.data_ptr<float>(), big, bigIds.data()); });
        const long memory = heapMb() - before;
        std::printf("%s over %lld: built in %.1f s, index memory %ld MB\n", kind.c_str(), static_cast<long long>(big), buildS,
                    memory);
        for (int effort : kind == "hnsw" ? std::vector<int>{32, 64, 96, 160} : std::vector<int>{8, 16, 32, 64}) {
            ann.setSearchEffort(effort);
            std::vector<double> t;
            for (std::int64_t q = 0; q < bq; ++q)
                t.push_back(bench::seconds([&] {
                    ann.search(bigQ[q].data_ptr<float>(), 1, k, bd.data() + q * k, got.data() + q * k);
                }));
            std::printf("  %s %3d: recall@10 %.4f, %.3f ms per query (goal >= 0.95 at <= 5 ms)\n",
                        kind == "hnsw" ? "efSearch" : "nprobe", effort, recall(got, truth, k),
                        bench::median(t) * 1000);
        }
    }
    return 0;
}
