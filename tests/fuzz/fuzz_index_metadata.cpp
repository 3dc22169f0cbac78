// libFuzzer target: a descriptor index's meta.json (IndexMetadata::parse, what DescriptorIndex::open and list run).
// Anything but a DataError, a name that could leave the project folder, or metadata that does not survive being
// written and read again, is a bug.
#include "common/Error.h"
#include "search/IndexMetadata.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char *data, std::size_t size)
{
    using namespace convscope;
    try {
        const IndexMetadata m = IndexMetadata::parse(
            QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size)), "/fuzz/index-x/meta.json");
        if (m.name.empty() || m.name.find('/') != std::string::npos || m.name == ".." || m.layer.empty() || m.scan < 1)
            std::abort();
        const IndexMetadata again = IndexMetadata::parse(m.toJson(), "round trip");
        if (again.name != m.name || again.layer != m.layer || again.pooling != m.pooling || again.scan != m.scan ||
            again.features != m.features || again.added != m.added)
            std::abort();
    } catch (const DataError &) {
    }
    return 0;
}
