#pragma once
// Checkpoints of one architecture saved while it trained, in training order: files given in order, or the model
// files of a folder sorted by name with numbers compared as numbers (epoch2 before epoch10). Each checkpoint is
// named for figures and tables by the number in its file name ("epoch 4" for fashion_cnn_epoch04.pt; "step 1200"
// for …step1200.pt; the file name otherwise).
#include <memory>
#include <string>
#include <vector>

namespace convscope {

class Model;

class CheckpointSeries {
public:
    struct Checkpoint {
        std::string path;  ///< the model file
        std::string label; ///< "epoch 4", "step 1200", or the file name without suffix
    };

    /// Files in the given order. Throws UsageError when fewer than 2 are given, IoError for a missing file.
    static CheckpointSeries fromFiles(const std::vector<std::string> &paths);
    /// The .pt, .ts, .torchscript and .onnx files of `dir` in natural name order. Throws IoError (no such folder),
    /// UsageError (fewer than 2 model files).
    static CheckpointSeries fromFolder(const std::string &dir);
    /// The files beside `file` whose names differ from it only in their numbers (run_epoch2.pt, run_epoch10.pt…), in
    /// natural order. Throws IoError (no such file), UsageError (no other such file).
    static CheckpointSeries siblingsOf(const std::string &file);
    /// `paths` sorted by file name, numbers compared as numbers (epoch2 before epoch10).
    static std::vector<std::string> byName(std::vector<std::string> paths);
    /// One folder argument: fromFolder; else fromFiles.
    static CheckpointSeries fromArguments(const std::vector<std::string> &arguments);

    /// The checkpoints saved beside a model as <dir>/checkpoints/<stem>_*.pt|.onnx (the demo recipe's layout), in
    /// natural name order; an empty series when there are fewer than 2. Never throws.
    static CheckpointSeries besideModel(const std::string &modelPath);
    /// Position of `modelPath` in the series: the same file, or one with the same contents (the last checkpoint
    /// saved again as the model itself); -1 when none.
    int indexOf(const std::string &modelPath) const;

    const std::vector<Checkpoint> &checkpoints() const { return checkpoints_; }
    size_t size() const { return checkpoints_.size(); }

    /// Throws DataError naming `label` and the first difference when `other`'s layer table (paths, types, output
    /// shapes) differs from `reference`'s: the checkpoints are not one architecture.
    static void checkSameLayers(const Model &reference, const Model &other, const std::string &label);

    /// The label for a file name (see the header comment).
    static std::string labelFor(const std::string &path);

private:
    std::vector<Checkpoint> checkpoints_;
};

} // namespace convscope
