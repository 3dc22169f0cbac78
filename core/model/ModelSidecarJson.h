#pragma once
// The sidecar JSON of a model (see ModelSidecar.h for the fields) parsed from bytes in memory: ModelSidecar::load
// reads the file and calls parse(); the fuzz target calls parse() with arbitrary bytes. Every field is checked for
// its type and range and a wrong one is named in the message ("fashion_cnn.json: 'input.std' values must be
// positive").
#include "model/ModelSidecar.h"

#include <QByteArray>

#include <string>

namespace convscope {

class ModelSidecarJson {
public:
    /// Longest sidecar parse() accepts (a real one is a few kB; labels of 21k ImageNet classes take ~300 kB).
    static constexpr qint64 kMaxBytes = qint64(16) << 20;

    /// Parses `json` as the sidecar at `jsonPath` (named in messages; `labels_file` and `dataset` are relative to its
    /// folder) of a model with `channels` input channels (the defaults for fields left out). Throws DataError for
    /// invalid JSON or values, IoError when `labels_file` cannot be read (missing, not a regular file, over 16 MiB).
    static ModelSidecar parse(const QByteArray &json, int channels, const std::string &jsonPath);
};

} // namespace convscope
