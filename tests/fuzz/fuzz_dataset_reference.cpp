// libFuzzer target: "DATASET#INDEX" references (DatasetReference::parse, what ImageReference::load runs for a
// name that is not a file). Anything but a UsageError, or a result that does not spell the input, is a bug.
#include "common/Error.h"
#include "data/DatasetReference.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char *data, std::size_t size)
{
    using namespace convscope;
    const std::string reference(reinterpret_cast<const char *>(data), size);
    try {
        const std::optional<DatasetReference> r = DatasetReference::parse(reference);
        if (!r) {
            if (reference.find('#') != std::string::npos)
                std::abort();
            return 0;
        }
        // The dataset part may hold '#' itself: the last one splits. Joined again, the parts spell the input
        // (up to leading zeros of the number).
        if (r->index < 0 || r->dataset.empty() || reference.compare(0, r->dataset.size(), r->dataset) != 0 ||
            reference[r->dataset.size()] != '#')
            std::abort();
        const std::string digits = reference.substr(r->dataset.size() + 1);
        if (digits.find('#') != std::string::npos || std::stoll(digits) != r->index)
            std::abort();
        if ((digits[0] != '0' || digits.size() == 1) && r->text() != reference)
            std::abort();
    } catch (const UsageError &) {
    }
    return 0;
}
