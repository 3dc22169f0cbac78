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
// A shard of a scan (Scan::Options::shardIndex/shardCount) is a scan of its own, covering images [first, total),
// with feature matrices of those rows only; scans() leaves shards out (they are whole only once merged:
// ShardMerge), shards() lists them.
//
// One object per thread (the SQLite connection belongs to the thread that opened it). Several processes may read a
// project; a scan is written by one process at a time (a lock file says so). Throws IoError for folders that are
// not writable, full disks and locked scans, DataError for a damaged catalogue.
#include "scan/Scan.h"

#include <QLockFile>

#include <functional>

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
        std::int64_t first = 0;           ///< first image covered (a shard's start; 0 otherwise); `total` is its end
        int shardIndex = 0, shardCount = 0; ///< shard I of N; N = 0 for a whole scan
        std::string baseKey;              ///< the key of the whole scan this is a shard of (= key when not a shard)
        std::string identity;             ///< what the key hashes, as JSON (model hash, dataset, input, layers, k...)
    };

    /// The record for this (model, dataset, scan) — found, or created empty. `datasetPath` is what the user
    /// opened (made absolute); `scan` gives the resolved layers, k, features and limit.
    ScanInfo openScan(const Model &model, const std::string &datasetPath, const Scan &scan);
    /// The record for this (model, dataset, scan) if there is one; creates nothing.
    std::optional<ScanInfo> findScan(const Model &model, const std::string &datasetPath, const Scan &scan) const;
    /// Whole scans (complete or not), oldest first; shards are left out.
    std::vector<ScanInfo> scans() const;
    /// Shards of scans, oldest first.
    std::vector<ScanInfo> shards() const;
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

    /// The record of the whole scan that `shard` (of another store) is part of: found, or created empty.
    ScanInfo openMerged(const ScanInfo &shard);
    /// Fills whole scan `id` from its shards, in one transaction: their image rows (predictions, skipped images
    /// and reasons), `tops` (per tracker in Scan::trackerIndex order, per channel its top k) and their scanning
    /// time; marks it complete. Rows it held before are replaced. Feature matrices are the caller's (written
    /// first). Each shard's store must stay open for the call.
    void completeMerged(std::int64_t id, const std::vector<std::pair<const ProjectStore *, ScanInfo>> &shards,
                        const std::vector<std::vector<std::vector<TopKTracker::Entry>>> &tops);

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
    /// Every image row of a scan, in index order.
    void forEachImage(std::int64_t id, const std::function<void(const ImageRow &)> &visit) const;
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
        std::string key, baseKey, modelHash, dataset, json;
        QByteArray layers, features;
    };
    void writeTop(std::int64_t id, const std::vector<std::vector<std::vector<TopKTracker::Entry>>> &tops, int k);
    Identity identity(const Model &model, const std::string &datasetPath, const Scan &scan) const;
    std::optional<ScanInfo> scanWithKey(const std::string &key) const;
    NpyMatrixFile &featureFile(std::int64_t id, size_t feature);

    std::string dir_;
    std::string connection_;
    std::map<std::int64_t, std::unique_ptr<QLockFile>> locks_;
    std::map<std::pair<std::int64_t, size_t>, std::unique_ptr<NpyMatrixFile>> featureFiles_;
    std::map<std::int64_t, std::int64_t> firstRow_; ///< per scan with open feature files: its first image
};

} // namespace convscope
