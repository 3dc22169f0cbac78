#pragma once
// Writes how a model takes its input into its sidecar JSON (see ModelSidecar.h): the input spec and, optionally,
// the labels file. Other fields of an existing sidecar (name, layer names, dataset, inline labels unless a labels
// file replaces them) are kept. The model is loaded once with the new file before it replaces the old one, so a
// sidecar that would not load (bad values, or an input size the model does not take) is never written; the file is
// replaced whole (a crash leaves the old one).
#include "model/InputSpec.h"

#include <QJsonObject>

#include <string>

namespace convscope {

class ModelSidecarWriter {
public:
    /// Where the sidecar of `modelPath` is or will be: the existing one (ModelSidecar::findFor), else
    /// "<folder>/<model name without its last suffix>.json".
    static std::string pathFor(const std::string &modelPath);
    /// The sidecar's "input" object for `spec` (every field; `convscope input-spec --json` prints the same).
    static QJsonObject inputJson(const InputSpec &spec);
    /// Writes `spec` (and `labelsFile` when not empty: relative to the sidecar's folder or absolute) into the
    /// sidecar of `modelPath`; returns the file written. Throws UsageError (values that do not load or an input the
    /// model does not take: the message says which), IoError (unwritable folder, labels file missing) or DataError (the existing
    /// sidecar is not valid JSON: it is not overwritten).
    static std::string write(const std::string &modelPath, const InputSpec &spec, const std::string &labelsFile = {});
};

} // namespace convscope
