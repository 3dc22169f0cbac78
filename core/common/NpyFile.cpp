#include "common/NpyFile.h"

#include "common/Error.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>

namespace convscope {

namespace {

const char *descrOf(torch::ScalarType t)
{
    switch (t) {
    case torch::kFloat32: return "<f4";
    case torch::kFloat64: return "<f8";
    case torch::kInt64: return "<i8";
    case torch::kInt32: return "<i4";
    case torch::kUInt8: return "|u1";
    case torch::kBool: return "|b1";
    default: return nullptr;
    }
}

torch::ScalarType typeOf(const std::string &descr)
{
    static const std::pair<const char *, torch::ScalarType> table[] = {
        {"<f4", torch::kFloat32}, {"<f8", torch::kFloat64}, {"<i8", torch::kInt64},
        {"<i4", torch::kInt32},   {"|u1", torch::kUInt8},   {"|b1", torch::kBool}};
    for (auto &[d, t] : table)
        if (descr == d)
            return t;
    throw DataError("unsupported .npy dtype '" + descr + "'");
}

} // namespace

std::string NpyFile::header(torch::ScalarType type, at::IntArrayRef shape)
{
    const char *descr = descrOf(type);
    if (!descr)
        throw UsageError("cannot write tensors of type " + std::string(c10::toString(type)) + " to .npy");
    std::string dims = "(";
    for (auto d : shape)
        dims += std::to_string(d) + ", ";
    if (shape.size() > 1)
        dims.resize(dims.size() - 2);
    else if (shape.size() == 1)
        dims.pop_back();
    dims += ")";
    std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + dims + ", }";
    // magic(6) + version(2) + len(2) + dict + '\n', padded to a multiple of 64
    const size_t total = 10 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(dict.size() & 0xff);
    out += static_cast<char>((dict.size() >> 8) & 0xff);
    return out + dict;
}

void NpyFile::write(const std::string &path, const torch::Tensor &tensor)
{
    torch::Tensor t = tensor.contiguous().cpu();
    const std::string head = header(t.scalar_type(), t.sizes());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw IoError("cannot write '" + path + "': " + std::strerror(errno));
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    out.write(static_cast<const char *>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    out.flush();
    if (!out)
        throw IoError("cannot write '" + path + "': disk full or file not writable");
}

torch::Tensor NpyFile::read(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw IoError("cannot open '" + path + "': " + std::strerror(errno));
    char magic[8];
    if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
        throw DataError("'" + path + "' is not a .npy file");
    uint32_t len = 0;
    unsigned char b[4] = {0, 0, 0, 0};
    if (!in.read(reinterpret_cast<char *>(b), magic[6] == 1 ? 2 : 4))
        throw DataError("'" + path + "': truncated .npy header");
    len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
    if (len > (1u << 20))
        throw DataError("'" + path + "': implausible .npy header length");
    std::string header(len, '\0');
    if (!in.read(header.data(), len))
        throw DataError("'" + path + "': truncated .npy header");
    std::smatch m;
    if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'")))
        throw DataError("'" + path + "': .npy header without dtype");
    torch::ScalarType type = typeOf(m[1]);
    if (header.find("'fortran_order': True") != std::string::npos)
        throw DataError("'" + path + "': Fortran-ordered .npy files are not supported");
    if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
        throw DataError("'" + path + "': .npy header without shape");
    std::vector<int64_t> shape;
    std::string dims = m[1];
    std::regex num("[0-9]+");
    for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it) {
        if (it->str().size() > 12)
            throw DataError("'" + path + "': implausible .npy shape");
        shape.push_back(std::stoll(it->str()));
    }
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(type));
    if (!in.read(static_cast<char *>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes())))
        throw DataError("'" + path + "': truncated .npy data");
    return t;
}

} // namespace convscope
