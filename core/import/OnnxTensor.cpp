#include "import/OnnxTensor.h"

#include "common/Error.h"

#include <cstring>
#include <fstream>

namespace convscope {

namespace {

using onnx::TensorProto;

std::string joinPath(const std::string &dir, const std::string &file)
{
    if (dir.empty() || (!file.empty() && file[0] == '/'))
        return file;
    return dir + "/" + file;
}

/// The bytes of an external-data tensor: the file named by `location`, from `offset`, `length` bytes (or to the
/// end of the file).
std::string readExternal(const TensorProto &proto, const std::string &baseDir, const std::string &what)
{
    std::string location;
    std::int64_t offset = 0, length = -1;
    for (const auto &kv : proto.external_data()) {
        try {
            if (kv.key() == "location")
                location = kv.value();
            else if (kv.key() == "offset")
                offset = std::stoll(kv.value());
            else if (kv.key() == "length")
                length = std::stoll(kv.value());
        } catch (const std::exception &) {
            throw ModelLoadError("the external data entry '" + kv.key() + "' of " + what + " is not a number: '" +
                                 kv.value() + "'");
        }
    }
    if (location.empty())
        throw ModelLoadError(what + " is stored as external data but names no file");
    if (location.find("..") != std::string::npos)
        throw ModelLoadError(what + " names external data outside the model's folder ('" + location + "')");
    const std::string path = joinPath(baseDir, location);
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in)
        throw ModelLoadError("the weights of " + what + " are in '" + location +
                             "', which is missing next to the model (external data must stay beside the .onnx file)");
    const std::int64_t fileSize = static_cast<std::int64_t>(in.tellg());
    if (offset < 0 || offset > fileSize || (length >= 0 && length > fileSize - offset))
        throw ModelLoadError("the external data file '" + location + "' is too short for " + what + " (" +
                             std::to_string(fileSize) + " bytes; needs " + std::to_string(offset) + " + " +
                             std::to_string(length) + ")");
    if (length < 0)
        length = fileSize - offset;
    std::string bytes(static_cast<size_t>(length), '\0');
    in.seekg(offset);
    in.read(bytes.data(), length);
    if (!in)
        throw ModelLoadError("cannot read the external data file '" + location + "' for " + what);
    return bytes;
}

template <typename Field>
torch::Tensor fromField(const Field &field, torch::ScalarType fieldType, std::int64_t count, torch::ScalarType type,
                        const std::vector<std::int64_t> &shape, const std::string &what)
{
    if (field.size() != count)
        throw ModelLoadError(what + " declares " + std::to_string(count) + " values but holds " +
                             std::to_string(field.size()));
    torch::Tensor t = torch::empty({count}, torch::TensorOptions().dtype(fieldType));
    if (count > 0)
        std::memcpy(t.data_ptr(), field.data(), static_cast<size_t>(count) * t.element_size());
    if (type == torch::kHalf) // float16 values travel as their 16 bits in int32_data
        t = t.to(torch::kShort).view(torch::kHalf);
    return t.to(type).reshape(shape);
}

} // namespace

std::string OnnxTensor::typeName(int onnxType)
{
    if (TensorProto::DataType_IsValid(onnxType))
        return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(onnxType));
    return "type " + std::to_string(onnxType);
}

torch::ScalarType OnnxTensor::scalarType(int onnxType, const std::string &what)
{
    switch (onnxType) {
    case TensorProto::FLOAT: return torch::kFloat;
    case TensorProto::DOUBLE: return torch::kDouble;
    case TensorProto::FLOAT16: return torch::kHalf;
    case TensorProto::BFLOAT16: return torch::kBFloat16;
    case TensorProto::INT64: return torch::kLong;
    case TensorProto::INT32: return torch::kInt;
    case TensorProto::INT16: return torch::kShort;
    case TensorProto::INT8: return torch::kChar;
    case TensorProto::UINT8: return torch::kByte;
    case TensorProto::BOOL: return torch::kBool;
    default:
        throw UnsupportedModelError(what + " has element type " + typeName(onnxType) + ", which Convscope does not support");
    }
}

onnx::TensorProto OnnxTensor::toProto(const torch::Tensor &tensor, const std::string &name)
{
    onnx::TensorProto proto;
    proto.set_name(name);
    for (auto d : tensor.sizes())
        proto.add_dims(d);
    int type = TensorProto::UNDEFINED;
    switch (tensor.scalar_type()) {
    case torch::kFloat: type = TensorProto::FLOAT; break;
    case torch::kDouble: type = TensorProto::DOUBLE; break;
    case torch::kHalf: type = TensorProto::FLOAT16; break;
    case torch::kLong: type = TensorProto::INT64; break;
    case torch::kInt: type = TensorProto::INT32; break;
    case torch::kShort: type = TensorProto::INT16; break;
    case torch::kChar: type = TensorProto::INT8; break;
    case torch::kByte: type = TensorProto::UINT8; break;
    case torch::kBool: type = TensorProto::BOOL; break;
    default: throw UnsupportedModelError("cannot describe a " + std::string(c10::toString(tensor.scalar_type())) +
                                         " tensor to ONNX");
    }
    proto.set_data_type(type);
    torch::Tensor t = tensor.contiguous();
    proto.set_raw_data(std::string(static_cast<const char *>(t.data_ptr()), t.numel() * t.element_size()));
    return proto;
}

torch::Tensor OnnxTensor::toTensor(const TensorProto &proto, const std::string &baseDir, const std::string &what)
{
    const torch::ScalarType type = scalarType(proto.data_type(), what);
    std::vector<std::int64_t> shape(proto.dims().begin(), proto.dims().end());
    std::int64_t count = 1;
    for (std::int64_t d : shape) {
        if (d < 0 || (d > 0 && count > (std::int64_t(1) << 40) / d))
            throw ModelLoadError(what + " has an impossible shape");
        count *= d;
    }
    const std::int64_t elementSize = static_cast<std::int64_t>(c10::elementSize(type));

    const bool external = proto.data_location() == TensorProto::EXTERNAL;
    if (external || proto.has_raw_data()) {
        std::string external_bytes;
        const std::string *bytes = &proto.raw_data();
        if (external) {
            external_bytes = readExternal(proto, baseDir, what);
            bytes = &external_bytes;
        }
        if (static_cast<std::int64_t>(bytes->size()) != count * elementSize)
            throw ModelLoadError(what + " should hold " + std::to_string(count * elementSize) + " bytes but holds " +
                                 std::to_string(bytes->size()) + " (the file is damaged)");
        torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(type));
        if (count > 0)
            std::memcpy(t.data_ptr(), bytes->data(), bytes->size());
        return t;
    }
    switch (proto.data_type()) {
    case TensorProto::FLOAT: return fromField(proto.float_data(), torch::kFloat, count, type, shape, what);
    case TensorProto::DOUBLE: return fromField(proto.double_data(), torch::kDouble, count, type, shape, what);
    case TensorProto::INT64: return fromField(proto.int64_data(), torch::kLong, count, type, shape, what);
    case TensorProto::FLOAT16:
    case TensorProto::INT32:
    case TensorProto::INT16:
    case TensorProto::INT8:
    case TensorProto::UINT8:
    case TensorProto::BOOL: return fromField(proto.int32_data(), torch::kInt, count, type, shape, what);
    default: throw ModelLoadError(what + " stores its values in a way Convscope cannot read");
    }
}

} // namespace convscope
