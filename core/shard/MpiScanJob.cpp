#include "shard/MpiScanJob.h"

#include "common/Error.h"
#include "common/RuntimePolicy.h"
#include "shard/ShardMerge.h"
#include "shard/ShardPlan.h"

#include <QFileInfo>

#include <mpi.h>

#include <algorithm>
#include <vector>

namespace convscope {

namespace {

// Messages between ranks, all on MPI_COMM_WORLD. Rank r → 0: kProgress (2 × int64: images done in its shard and
// the shard's size), then once kResult (status byte + message). 0 → r: kStop (stop early, keep what is done), and
// last kFinal (int: the job's exit status). Messages between two ranks arrive in order, so a rank that waits for
// kFinal has seen every kStop before it.
enum Tag { kProgress = 1, kResult = 2, kStop = 3, kFinal = 4 };
enum Status : char { kOk = '0', kFailed = '1', kStopped = '2' };

void check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS)
        throw IoError(std::string("MPI: ") + what + " failed (error " + std::to_string(rc) + ")");
}

std::string hostName()
{
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int length = 0;
    MPI_Get_processor_name(name, &length);
    return std::string(name, static_cast<size_t>(std::max(0, length)));
}

} // namespace

MpiScanJob::MpiScanJob()
{
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
        int provided = 0;
        check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "initialisation");
        initialisedHere_ = true;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks_);
    MPI_Comm node;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "node split");
    MPI_Comm_size(node, &local_);
    MPI_Comm_free(&node);
}

MpiScanJob::~MpiScanJob()
{
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (initialisedHere_ && !finalised)
        MPI_Finalize();
}

MpiScanJob::Outcome MpiScanJob::run(const std::function<Inputs()> &setup, const std::string &datasetPath,
                                    StoredScan::Options options, Progress *progress)
{
    // The node's cores are shared by its ranks (CONVSCOPE_THREADS, when set, is per rank already).
    if (!std::getenv("CONVSCOPE_THREADS"))
        RuntimePolicy::applyThreads(std::max(1, RuntimePolicy::cores() / local_));
    Outcome outcome;
    outcome.project = QFileInfo(QString::fromStdString(options.project.empty()
                                                           ? StoredScan::defaultProjectDir(datasetPath)
                                                           : options.project))
                          .absoluteFilePath()
                          .toStdString();
    options.project = ShardPlan::folder(outcome.project, rank_, ranks_);
    options.scan.shardIndex = rank_;
    options.scan.shardCount = ranks_;

    std::vector<std::int64_t> done(static_cast<size_t>(ranks_), 0), sizes(static_cast<size_t>(ranks_), 0);
    std::vector<char> finished(static_cast<size_t>(ranks_), 0);
    std::string failure; // the first failure rank 0 heard of
    bool stopRequested = false;
    std::int64_t progressBuffer[2] = {0, 0};
    MPI_Request progressRequest = MPI_REQUEST_NULL;

    auto stopOthers = [&] {
        for (int r = 1; r < ranks_; ++r)
            if (!finished[static_cast<size_t>(r)])
                MPI_Send(nullptr, 0, MPI_INT, r, kStop, MPI_COMM_WORLD);
    };
    // Rank 0: handles one message from another rank.
    auto handle = [&](const MPI_Status &st) {
        if (st.MPI_TAG == kProgress) {
            std::int64_t v[2];
            MPI_Recv(v, 2, MPI_INT64_T, st.MPI_SOURCE, kProgress, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            done[static_cast<size_t>(st.MPI_SOURCE)] = v[0];
            sizes[static_cast<size_t>(st.MPI_SOURCE)] = v[1];
        } else if (st.MPI_TAG == kResult) {
            int length = 0;
            MPI_Get_count(&st, MPI_CHAR, &length);
            std::string text(static_cast<size_t>(std::max(length, 1)), kFailed);
            MPI_Recv(text.data(), length, MPI_CHAR, st.MPI_SOURCE, kResult, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            finished[static_cast<size_t>(st.MPI_SOURCE)] = 1;
            if (text[0] == kFailed && failure.empty()) {
                failure = text.substr(1);
                stopOthers();
            }
        } else { // not part of the protocol: drop it
            MPI_Recv(nullptr, 0, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
    };
    auto poll = [&] {
        if (rank_ == 0) {
            int flag = 1;
            MPI_Status st;
            while (true) {
                MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
                if (!flag)
                    break;
                handle(st);
            }
            std::int64_t all = 0;
            for (auto d : done)
                all += d;
            if (progress && outcome.images > 0)
                progress->report(all, outcome.images, "scanning");
        } else {
            int flag = 0;
            MPI_Iprobe(0, kStop, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
            if (flag) {
                MPI_Recv(nullptr, 0, MPI_INT, 0, kStop, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                stopRequested = true;
            }
        }
    };
    auto sendProgress = [&](std::int64_t doneInShard, std::int64_t size) {
        if (rank_ == 0) {
            done[0] = doneInShard;
            sizes[0] = size;
            return;
        }
        int complete = 1;
        if (progressRequest != MPI_REQUEST_NULL)
            MPI_Test(&progressRequest, &complete, MPI_STATUS_IGNORE);
        if (!complete)
            return; // rank 0 is busy: the next report carries the news
        progressBuffer[0] = doneInShard;
        progressBuffer[1] = size;
        MPI_Isend(progressBuffer, 2, MPI_INT64_T, 0, kProgress, MPI_COMM_WORLD, &progressRequest);
    };

    // This rank's shard.
    char status = kOk;
    std::string message, scanKey;
    try {
        const Inputs in = setup();
        StoredScan stored(in.model, in.source, datasetPath, options);
        scanKey = stored.info().baseKey;
        outcome.images = stored.scan().datasetImages();
        const std::int64_t size = stored.total() - stored.first();
        sendProgress(stored.info().done - stored.first(), size);
        while (!stopRequested && (rank_ != 0 || failure.empty()) && stored.run(1)) {
            sendProgress(stored.done() - stored.first(), size);
            poll();
        }
        sendProgress(stored.info().done - stored.first(), size);
        if (stored.done() < stored.total())
            status = kStopped; // the destructor records what was done
    } catch (const std::exception &e) {
        status = kFailed;
        message = "rank " + std::to_string(rank_) + " of " + std::to_string(ranks_) + " (" + hostName() +
                  ", shard " + std::to_string(rank_) + "/" + std::to_string(ranks_) + "): " + e.what();
    }
    if (progressRequest != MPI_REQUEST_NULL)
        MPI_Wait(&progressRequest, MPI_STATUS_IGNORE);

    if (rank_ != 0) {
        const std::string text = std::string(1, status) + message;
        MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, kResult, MPI_COMM_WORLD);
        int final = 1;
        while (true) { // a kStop may still come (sent before rank 0 saw our result)
            MPI_Status st;
            MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
            if (st.MPI_TAG == kFinal) {
                MPI_Recv(&final, 1, MPI_INT, 0, kFinal, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                break;
            }
            MPI_Recv(nullptr, 0, MPI_INT, 0, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
        outcome.ok = final == 0;
        return outcome;
    }

    // Rank 0: wait for every rank, then merge.
    finished[0] = 1;
    if (status == kFailed && failure.empty()) {
        failure = message;
        stopOthers();
    }
    while (std::count(finished.begin(), finished.end(), 1) < ranks_) {
        MPI_Status st;
        MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        handle(st);
        poll();
    }
    if (failure.empty() && status == kOk) {
        try {
            std::vector<std::string> folders;
            for (int r = 0; r < ranks_; ++r)
                folders.push_back(ShardPlan::folder(outcome.project, r, ranks_));
            ShardMerge merge(folders, outcome.project, scanKey);
            outcome.alreadyMerged = merge.alreadyMerged();
            while (merge.step())
                if (progress)
                    progress->report(merge.stepsDone(), merge.steps(), "merging shards");
            outcome.merged = merge.merged();
        } catch (const std::exception &e) {
            failure = std::string("merging the shards: ") + e.what();
        }
    } else if (failure.empty()) {
        failure = "a rank stopped before the end of its shard";
    }
    outcome.ok = failure.empty();
    outcome.message = failure.empty() ? std::string()
                                      : failure + " (the other shards keep what they finished: once the cause is "
                                                  "fixed, the same command resumes every shard)";
    const int final = outcome.ok ? 0 : 1;
    for (int r = 1; r < ranks_; ++r)
        MPI_Send(&final, 1, MPI_INT, r, kFinal, MPI_COMM_WORLD);
    return outcome;
}

} // namespace convscope
