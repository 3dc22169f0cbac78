// libFuzzer target: the zip check a model file passes before LibTorch reads it (ModelArchive::check, what
// Model::load runs). Anything but a ModelLoadError, or an accepted archive whose entries lie outside the bytes, is
// a bug.
#include "common/Error.h"
#include "model/ModelArchive.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char *data, std::size_t size)
{
    using namespace convscope;
    try {
        const ModelArchive a = ModelArchive::check(data, size, "fuzz.pt");
        if (a.entries().empty() || a.root().empty() || !a.contains("data.pkl"))
            std::abort();
        for (const auto &e : a.entries())
            if (e.dataOffset > size || e.compressedSize > size - e.dataOffset || e.localHeader >= e.dataOffset)
                std::abort();
    } catch (const ModelLoadError &) {
    }
    return 0;
}
