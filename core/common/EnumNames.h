#pragma once
// Names of an enum's values for the CLI, files and messages, kept in one table per enum: the first name of a value
// is the one written; further rows for the same value are aliases accepted when parsing.
//   constexpr EnumName<Method> kMethods[] = {{Method::Tsne, "tsne"}, {Method::Umap, "umap"}};
//   nameOf(kMethods, Method::Umap) == "umap";  parseName(kMethods, "UMAP", "method") == Method::Umap
#include "common/Error.h"

#include <cctype>
#include <cstddef>
#include <string>
#include <vector>

namespace convscope {

template <class E>
struct EnumName {
    E value;
    const char *name;
};

/// The first name of `value` in `table`; "" when the table lacks it.
template <class E, std::size_t N>
const char *nameOf(const EnumName<E> (&table)[N], E value)
{
    for (const auto &row : table)
        if (row.value == value)
            return row.name;
    return "";
}

/// The value named `name` (case-insensitive). Throws UsageError "unknown WHAT 'name': choose a, b or c" listing the
/// written names (not the aliases).
template <class E, std::size_t N>
E parseName(const EnumName<E> (&table)[N], const std::string &name, const std::string &what)
{
    std::string lower;
    for (char c : name)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto &row : table)
        if (lower == row.name)
            return row.value;
    std::vector<std::string> written; // aliases are accepted, not offered
    for (const auto &row : table)
        if (nameOf(table, row.value) == row.name)
            written.push_back(row.name);
    std::string choices = written.front();
    for (std::size_t i = 1; i < written.size(); ++i)
        choices += (i + 1 == written.size() ? " or " : ", ") + written[i];
    throw UsageError("unknown " + what + " '" + name + "': choose " + choices);
}

} // namespace convscope
