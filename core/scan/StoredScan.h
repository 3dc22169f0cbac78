#pragma once
// A dataset scan backed by a project folder: finds the stored scan for (model, dataset, options) and reuses it
// when complete, resumes it after its last recorded batch when not, and records its progress as it goes: every
// `checkpointSeconds` (one transaction for the batches since the last record, whose top-k log then holds only the
// entries still ranked), at the end, and when the object is destroyed (a stopped scan keeps everything it did).
// init in the constructor, then run(batches) until false — the same loop for the CLI and the GUI worker.
#include "scan/ProjectStore.h"
#include "scan/Scan.h"

#include <chrono>
#include <memory>

namespace convscope {

class StoredScan {
public:
    struct Options {
        Scan::Options scan;
        std::string project; ///< project folder; empty = ProjectStore default for the dataset (defaultProjectDir)
        bool fresh = false;  ///< discard a stored scan with the same identity and start again
        /// Most scanning time a killed process can lose: batches are recorded together at least this often. A
        /// record per batch cost a deep model's first batches more than their forward pass (every channel's 9
        /// entries, again and again); 0 records every batch.
        double checkpointSeconds = 3.0;
    };

    /// Throws what Scan and ProjectStore throw (UsageError, DataError, IoError).
    StoredScan(std::shared_ptr<const Model> model, std::shared_ptr<const ImageSource> source,
               const std::string &datasetPath, Options options);
    ~StoredScan();

    /// Advances by at most `batches` batches (recording each); marks the scan complete at the end.
    /// True while images remain.
    bool run(int batches = 1);
    /// Records the batches finished since the last record now (the destructor does it too, ignoring errors).
    void checkpoint();

    bool reused() const { return reused_; }           ///< the scan was complete already: nothing to run
    /// Where this run began: first() for a new scan, later when resuming (images [first(), resumedAt()) were done).
    std::int64_t resumedAt() const { return resumedAt_; }
    std::int64_t first() const { return scan_->first(); } ///< a shard's first image; 0 for a whole scan
    std::int64_t done() const { return scan_->done(); }
    std::int64_t total() const { return scan_->total(); }
    const Scan &scan() const { return *scan_; }
    ProjectStore &store() { return *store_; }
    ProjectStore::ScanInfo info() const { return store_->scan(id_); }
    std::int64_t id() const { return id_; }

    /// Where a dataset's project goes by default: `<dataset>.convscope` beside it when that folder is writable and
    /// not system-installed (/usr, /opt, /var/lib, /etc), else under the user's data folder
    /// (~/.local/share/convscope/projects/<name>-<hash>).
    static std::string defaultProjectDir(const std::string &datasetPath);

private:
    std::shared_ptr<const Model> model_;
    std::shared_ptr<const ImageSource> source_;
    std::unique_ptr<Scan> scan_;
    std::unique_ptr<ProjectStore> store_;
    std::int64_t id_ = -1;
    bool reused_ = false;
    std::int64_t resumedAt_ = 0;
    std::chrono::steady_clock::time_point last_, lastRecord_;
    double checkpointSeconds_ = 3.0;
    ScanBatch pending_;               ///< finished batches not recorded yet, merged (features as a list per batch)
    std::vector<std::vector<torch::Tensor>> pendingFeatures_;
    double pendingSeconds_ = 0;
    bool hasPending_ = false;
    void add(const ScanBatch &batch, double seconds);
};

} // namespace convscope
