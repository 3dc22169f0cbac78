#pragma once
// A project folder: a SQLite catalogue (scans, images with label/prediction/confidence, per-unit top-k records)
// plus one .npy matrix per kept feature (rows = dataset images, float32, NaN for skipped images).
//
// Writes are transactional: a scan batch lands whole or not at all (feature rows are written before the
// transaction that marks them done), so a scan killed at any point — `kill -9` included — resumes after its last
// finished batch with exactly the state it had. While a scan runs, the catalogue keeps the top-k entries each batch
// accepted (one binary record per batch, replayed on resume); when it completes, one record per (layer, ranking)
// with the final top k replaces them (TopKRecords).
// A scan is identified by (model file SHA-256, input settings, dataset, layers, k, features, limit): opening the
// same again finds it (finished: reused; unfinished: resumed). The batch size is not part of it: results do not
// depend on it.
//
// One object per thread (the SQLite connection belongs to the thread that opened it). Several processes may read a
// project; a scan is written by one process at a time (a lock file says so). Throws IoError for folders that are
// not writable, full disks and locked scans, DataError for a damaged catalogue.
#include "scan/Scan.h"

#include <QLockFile>

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace convscope {

class NpyMatrixFile;

class ProjectStore {
public:
    /// Opens the project in `dir`, creating the folder and its catalogue when missing.
    explicit ProjectStore(const std::string &dir);
    ~ProjectStore();
    ProjectStore(const ProjectStore &) = delete;
    ProjectStore &operator=(const ProjectStore &) = delete;

    const std::string &dir() const { return dir_; }

    struct FeatureInfo {
        std::string name;   ///< "classifier.fc1", "features:avg"
        std::string layer;  ///< layer path
        std::int64_t dims = 0;
        std::string file;   ///< absolute path of the .npy matrix
    };
    struct ScanInfo {
        std::int64_t id = -1;
        std::string key;
        std::string modelPath, modelSha256, dataset;
        std::int64_t total = 0, done = 0;
        int k = 0;
        bool complete = false;
        std::vector<std::string> layers; ///< scanned layer paths, in tracker order (Scan::trackerIndex)
        std::vector<std::int64_t> channels;
        std::vector<FeatureInfo> features;
        std::string created, updated;
        double seconds = 0; ///< time spent scanning, over all runs
    };

    /// The record for this (model, dataset, scan) — found, or created empty. `datasetPath` is what the user
    /// opened (made absolute); `scan` gives the resolved layers, k, features and limit.
    ScanInfo openScan(const Model &model, const std::string &datasetPath, const Scan &scan);
    /// The record for this (model, dataset, scan) if there is one; creates nothing.
    std::optional<ScanInfo> findScan(const Model &model, const std::string &datasetPath, const Scan &scan) const;
    std::vector<ScanInfo> scans() const;
    ScanInfo scan(std::int64_t id) const;
    /// The newest complete scan of `modelPath` (any dataset) or of any model when empty; nullopt when none.
    std::optional<ScanInfo> latestComplete(const std::string &modelPath = {}) const;

    /// Forgets what a scan found (images, top-k, features) so it starts again; keeps its identity.
    void discard(std::int64_t id);
    /// Takes the scan's writer lock (released by the destructor). Throws IoError when another process holds it.
    void lockForWriting(std::int64_t id);
    /// Entries accepted by finished batches, per tracker: feed them to Scan::resume.
    std::vector<std::vector<TopKTracker::Accepted>> acceptedEntries(std::int64_t id) const;
    /// One finished batch, in one transaction. `seconds`: scanning time it took.
    void recordBatch(std::int64_t id, const ScanBatch &batch, const ImageSource &source, double seconds);
    /// Writes the final top-k tables from `scan` and marks the scan complete.
    void complete(std::int64_t id, const Scan &scan);

    struct ImageRow {
        std::int64_t index = -1;
        std::string name;
        int label = -1, predicted = -1;
        float confidence = 0;
        std::string skipped; ///< why the image was skipped, or empty
    };
    /// Finished images' rows; throws DataError for an index not scanned (yet).
    ImageRow image(std::int64_t id, std::int64_t index) const;
    std::vector<SkippedImage> skipped(std::int64_t id) const;
    /// The top k of a channel of a complete scan (`layer` indexes ScanInfo::layers), best first.
    std::vector<TopKTracker::Entry> top(std::int64_t id, int layer, TopKTracker::Statistic statistic,
                                        std::int64_t channel) const;
    /// All channels at once: per channel, its top k.
    std::vector<std::vector<TopKTracker::Entry>> topOfLayer(std::int64_t id, int layer,
                                                            TopKTracker::Statistic statistic) const;

    /// SHA-256 of a file, hex.
    static std::string sha256(const std::string &path);

private:
    struct Identity {
        std::string key, modelHash, dataset;
        QByteArray layers, features;
    };
    Identity identity(const Model &model, const std::string &datasetPath, const Scan &scan) const;
    std::optional<ScanInfo> scanWithKey(const std::string &key) const;
    NpyMatrixFile &featureFile(std::int64_t id, size_t feature);

    std::string dir_;
    std::string connection_;
    std::map<std::int64_t, std::unique_ptr<QLockFile>> locks_;
    std::map<std::pair<std::int64_t, size_t>, std::unique_ptr<NpyMatrixFile>> featureFiles_;
};

} // namespace convscope
