#pragma once
// Combines the shards of one scan (ShardPlan; scanned by `scan --shard I/N`, by MPI ranks or by a job array) into
// one ordinary, complete scan in a project: the same records as one uninterrupted scan, bit for bit. The top k of a
// channel over the whole dataset is the top k of the shards' top k's (shards hold disjoint images and the order is
// total: TopKTracker), so the rankings merge exactly; image rows (predictions, skipped images and their reasons)
// are copied; feature matrices are concatenated in shard order, which is the dataset's row order.
//
// Refuses (DataError, saying which and why) shards of different scans — model, dataset, input settings, layers,
// k, features, image count — or of different splits, missing, repeated or unfinished shards. Idempotent: a
// project that holds the merged scan complete already is left as it is; a merge killed halfway leaves the merged
// scan incomplete and is simply run again (feature rows are rewritten, then one transaction completes it).
//
// Chunked: the constructor checks everything, then step() until false (one feature matrix of one shard per step,
// the rankings and catalogue rows in the last), so callers can show progress and stop.
#include "scan/ProjectStore.h"

#include <memory>
#include <string>
#include <vector>

namespace convscope {

class ShardMerge {
public:
    /// `shardProjects`: shard project folders, or folders holding them as shard-I-of-N subfolders (the layout
    /// `scan --shard` and `--mpi` make). `project`: where the merged scan goes (may be one of those folders).
    /// `scanKey`, when given, picks the shards of that scan (ScanInfo::baseKey, or its first characters) where
    /// folders hold shards of several. Throws DataError (mismatched, missing, unfinished shards), IoError (unreadable folders).
    ShardMerge(const std::vector<std::string> &shardProjects, const std::string &project,
               const std::string &scanKey = {});
    ~ShardMerge();

    /// Does the next part of the merge; true while parts remain.
    bool step();
    int stepsDone() const { return stepsDone_; }
    int steps() const { return steps_; }

    bool alreadyMerged() const { return alreadyMerged_; } ///< the project held the merged scan already
    const std::vector<ProjectStore::ScanInfo> &shards() const { return shards_; }
    /// The merged scan (complete once step() returned false).
    ProjectStore::ScanInfo merged() const { return out_->scan(mergedId_); }
    ProjectStore &store() { return *out_; }

    /// The shard projects a list of folders names: each folder itself when its catalogue holds a shard, else its
    /// shard-I-of-N subfolders. Throws DataError for a folder that holds neither.
    static std::vector<std::string> expand(const std::vector<std::string> &folders);

private:
    void copyFeature(size_t shard, size_t feature);
    void finish();

    std::vector<std::unique_ptr<ProjectStore>> stores_;
    std::vector<ProjectStore::ScanInfo> shards_; ///< in shard order
    std::unique_ptr<ProjectStore> out_;
    std::int64_t mergedId_ = -1;
    bool alreadyMerged_ = false;
    int steps_ = 0, stepsDone_ = 0;
};

} // namespace convscope
