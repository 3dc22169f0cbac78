#include "data/DatasetReference.h"

#include "common/Error.h"

namespace convscope {

std::optional<DatasetReference> DatasetReference::parse(const std::string &reference)
{
    const auto hash = reference.rfind('#');
    if (hash == std::string::npos)
        return std::nullopt;
    const std::string digits = reference.substr(hash + 1);
    const auto bad = [&](const std::string &why) {
        return UsageError("'" + reference + "': expected DATASET#INDEX " + why);
    };
    if (hash == 0)
        throw bad("with a dataset before '#'");
    if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos)
        throw bad("with a whole number after '#'");
    DatasetReference r;
    r.dataset = reference.substr(0, hash);
    r.index = std::stoll(digits);
    return r;
}

} // namespace convscope
