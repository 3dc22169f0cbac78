#pragma once
// A dataset scan backed by a project folder: finds the stored scan for (model, dataset, options) and reuses it
// when complete, resumes it after its last finished batch when not, and records every batch as it goes.
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
    };

    /// Throws what Scan and ProjectStore throw (UsageError, DataError, IoError).
    StoredScan(std::shared_ptr<const Model> model, std::shared_ptr<const ImageSource> source,
               const std::string &datasetPath, Options options);
    ~StoredScan();

    /// Advances by at most `batches` batches (recording each); marks the scan complete at the end.
    /// True while images remain.
    bool run(int batches = 1);

    bool reused() const { return reused_; }           ///< the scan was complete already: nothing to run
    std::int64_t resumedAt() const { return resumedAt_; } ///< images already finished when this run began
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
    std::chrono::steady_clock::time_point last_;
};

} // namespace convscope
