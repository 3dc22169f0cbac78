// libFuzzer target: a model's sidecar JSON (ModelSidecarJson::parse, what ModelSidecar::load runs). The sidecar
// sits in a folder that does not exist, so a relative `labels_file` is missing; an absolute one is read as in the
// app. Anything but a DataError / IoError, or a sidecar that breaks its own promises, is a bug.
#include "common/Error.h"
#include "model/ModelSidecarJson.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char *data, std::size_t size)
{
    using namespace convscope;
    const int channels = size % 2 ? 1 : 3;
    try {
        const ModelSidecar s = ModelSidecarJson::parse(
            QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size)), channels,
            "/nonexistent-convscope-fuzz/model.json");
        const InputSpec &in = s.input;
        if (in.channels != 1 && in.channels != 3)
            std::abort();
        if (static_cast<int>(in.mean.size()) != in.channels || static_cast<int>(in.std.size()) != in.channels)
            std::abort();
        for (float v : in.std)
            if (!(v > 0))
                std::abort();
        if (in.width < 1 || in.height < 1 || in.resizeTo < 1 || !(in.range > 0))
            std::abort();
    } catch (const DataError &) {
    } catch (const IoError &) {
    }
    return 0;
}
