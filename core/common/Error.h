#pragma once
// Typed exceptions thrown by core. Every message is written for the user ("cannot read model 'x.pt': ...").
// The GUI and the CLI catch `convscope::Error` in one place each and show what().
// (A family of one-line types, kept together on purpose: they only differ by name and exit code.)
#include <stdexcept>
#include <string>

namespace convscope {

/// Base of every error core throws on bad input or failed I/O. exitCode() is what the CLI returns.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string &message) : std::runtime_error(message) {}
    virtual int exitCode() const { return 1; }
};

/// A file is missing, unreadable or unwritable.
class IoError : public Error {
public:
    using Error::Error;
    int exitCode() const override { return 3; }
};

/// A model file that is not a loadable TorchScript archive (truncated, text, zero bytes...).
class ModelLoadError : public Error {
public:
    using Error::Error;
    int exitCode() const override { return 4; }
};

/// A model that loads but that Convscope cannot use (non-image input, wrong input rank, unknown layer...).
class UnsupportedModelError : public Error {
public:
    using Error::Error;
    int exitCode() const override { return 5; }
};

/// An image or dataset that cannot be decoded or is empty.
class DataError : public Error {
public:
    using Error::Error;
    int exitCode() const override { return 6; }
};

/// A wrong argument or option value (unknown layer name, bad number...).
class UsageError : public Error {
public:
    using Error::Error;
    int exitCode() const override { return 2; }
};

/// Work stopped because the caller asked for it through a cancel flag.
class CancelledError : public Error {
public:
    CancelledError() : Error("cancelled") {}
    int exitCode() const override { return 130; }
};

} // namespace convscope
