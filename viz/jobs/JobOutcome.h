#pragma once
// How a background job ended, as the GUI thread receives it: with a value, cancelled (the work threw
// CancelledError after its Progress said cancelled()), or failed with a typed error. Nothing here compares message
// strings: the kind says what happened.
#include <QString>

#include <exception>
#include <optional>

namespace convscope {

/// Why a job failed: the family of convscope::Error it threw (see common/Error.h), or Unexpected for any other
/// exception (a bug or an out-of-memory), whose message is prefixed "unexpected error: ".
struct JobError {
    enum class Kind { Usage, Io, ModelLoad, UnsupportedModel, Data, Other, Unexpected };
    Kind kind = Kind::Unexpected;
    QString message; ///< written for the user; one line or a few

    /// Classifies the exception `error` points to (must not be a CancelledError).
    static JobError from(std::exception_ptr error);
};

template <class T>
struct JobOutcome {
    enum class Kind { Done, Cancelled, Failed };
    Kind kind = Kind::Failed;
    std::optional<T> value; ///< set when kind == Done
    JobError error;         ///< set when kind == Failed
};

} // namespace convscope
