#pragma once
// One dataset scan run by an MPI job (`mpirun -n R convscope scan … --mpi`, or srun): rank r scans shard r/R
// (ShardPlan) into <project>/shard-r-of-R with its share of the node's cores, reports its progress to rank 0, and
// rank 0 — which scans shard 0 as well — shows one progress bar for the whole job and merges the shards into
// <project> when all are done (ShardMerge). A rank that fails sends its message to rank 0, which stops the others
// (each records what it finished) and ends the job with that message; running the same command again resumes
// every shard. Only the thread that calls run() talks MPI. Built when CMake finds MPI (CONVSCOPE_HAVE_MPI).
#include "common/Progress.h"
#include "scan/StoredScan.h"

#include <functional>
#include <memory>
#include <string>

namespace convscope {

class MpiScanJob {
public:
    /// Initialises MPI (once per process); finalises it on destruction.
    MpiScanJob();
    ~MpiScanJob();
    MpiScanJob(const MpiScanJob &) = delete;
    MpiScanJob &operator=(const MpiScanJob &) = delete;

    int rank() const { return rank_; }
    int ranks() const { return ranks_; }
    /// Ranks of this job on this machine (they share its cores).
    int ranksOnNode() const { return local_; }

    struct Outcome {
        bool ok = false;
        std::string message;              ///< why the job stopped (rank 0), with the failing rank named
        std::int64_t images = 0;          ///< images of the whole scan
        std::string project;              ///< where the merged scan is
        ProjectStore::ScanInfo merged;    ///< rank 0 after a successful job
        bool alreadyMerged = false;
    };
    /// What a rank scans with, made by the caller's setup (model and dataset loaded on each rank).
    struct Inputs {
        std::shared_ptr<const Model> model;
        std::shared_ptr<const ImageSource> source;
    };
    /// Runs `setup` (whose errors — a model or dataset missing on one machine — end the job like any other
    /// failure of this rank) and scans this rank's shard. `options.project` is the job's project (the shards go
    /// in its shard folders); the shard fields of options.scan are set here. Rank 0 reports the whole job to
    /// `progress` (images over all ranks, then "merging"). Every rank returns the job's outcome; errors of this
    /// rank do not throw but end the job through rank 0.
    Outcome run(const std::function<Inputs()> &setup, const std::string &datasetPath, StoredScan::Options options,
                Progress *progress);

private:
    int rank_ = 0, ranks_ = 1, local_ = 1;
    bool initialisedHere_ = false;
};

} // namespace convscope
