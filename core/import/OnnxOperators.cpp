#include "import/OnnxOperators.h"

#include "import/OnnxEmitContext.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <sstream>

namespace convscope {

namespace {

using Ints = std::vector<std::int64_t>;

std::string list(const Ints &v)
{
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

std::string number(double v)
{
    if (std::isinf(v))
        return v > 0 ? "float(\"inf\")" : "float(\"-inf\")";
    if (std::isnan(v))
        return "float(\"nan\")";
    std::ostringstream s;
    s.precision(9);
    s << v;
    std::string text = s.str();
    if (text.find_first_of(".eE") == std::string::npos)
        text += ".";
    return text;
}

std::string boolean(bool b) { return b ? "True" : "False"; }

std::int64_t normalizeAxis(const OnnxEmitContext &ctx, std::int64_t axis, std::int64_t rank)
{
    if (axis < -rank || axis >= rank)
        ctx.unsupported("axis " + std::to_string(axis) + " is outside a rank-" + std::to_string(rank) + " tensor");
    return axis < 0 ? axis + rank : axis;
}

/// Sets out = expr for output 0 (when it is used).
void assign(OnnxEmitContext &ctx, const std::string &expr)
{
    const std::string out = ctx.output(0);
    if (!out.empty())
        ctx.line(out + " = " + expr);
}

/// Rejects a used output `o` (e.g. MaxPool's indices) that the import does not compute.
void requireUnused(OnnxEmitContext &ctx, int o, const char *what)
{
    if (o < ctx.outputCount() && !ctx.output(o).empty())
        ctx.unsupported(std::string("its output ") + what + " is used, which Convscope does not compute");
}

/// Spatial padding of a conv or pool as begin/end lists, honouring auto_pad (needs the input shape for SAME_*).
void spatialPads(OnnxEmitContext &ctx, const Ints &kernel, const Ints &strides, const Ints &dilations, Ints &begin,
                 Ints &end)
{
    const size_t k = kernel.size();
    Ints pads = ctx.getInts("pads", Ints(2 * k, 0));
    if (pads.size() != 2 * k)
        ctx.unsupported("has " + std::to_string(pads.size()) + " pads for " + std::to_string(k) + " spatial dims");
    begin.assign(pads.begin(), pads.begin() + k);
    end.assign(pads.begin() + k, pads.end());
    const std::string autoPad = ctx.getString("auto_pad", "NOTSET");
    if (autoPad == "VALID") {
        std::fill(begin.begin(), begin.end(), 0);
        std::fill(end.begin(), end.end(), 0);
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        const Ints in = ctx.shape(0);
        for (size_t d = 0; d < k; ++d) {
            const std::int64_t size = in.at(2 + d);
            const std::int64_t out = (size + strides[d] - 1) / strides[d];
            const std::int64_t total =
                std::max<std::int64_t>(0, (out - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - size);
            const std::int64_t small = total / 2, large = total - small;
            begin[d] = autoPad == "SAME_UPPER" ? small : large;
            end[d] = autoPad == "SAME_UPPER" ? large : small;
        }
    } else if (autoPad != "NOTSET") {
        ctx.unsupported("auto_pad '" + autoPad + "' is not an ONNX value");
    }
}

/// The constant_pad_nd list (last dim first) for spatial begin/end pads of an N×C×... tensor.
std::string padList(const Ints &begin, const Ints &end)
{
    Ints p;
    for (size_t d = begin.size(); d-- > 0;) {
        p.push_back(begin[d]);
        p.push_back(end[d]);
    }
    return list(p);
}

/// Pads `x` explicitly when begin != end (PyTorch's convolutions and pools pad symmetrically); returns the
/// expression to use and leaves symmetric pads in `begin`.
std::string explicitPad(OnnxEmitContext &ctx, const std::string &x, Ints &begin, Ints &end, const std::string &value)
{
    if (begin == end)
        return x;
    const std::string t = ctx.temporary();
    ctx.line(t + " = torch.constant_pad_nd(" + x + ", " + padList(begin, end) + ", " + value + ")");
    std::fill(begin.begin(), begin.end(), 0);
    std::fill(end.begin(), end.end(), 0);
    return t;
}

std::string weightOrInput(OnnxEmitContext &ctx, int i, const std::string &name)
{
    if (!ctx.has(i))
        return "None";
    if (auto c = ctx.constant(i))
        return ctx.parameter(i, name, c->to(torch::kFloat));
    return ctx.tensor(i);
}

struct ConvGeometry {
    size_t dims; ///< spatial dimensions (1 to 3)
    Ints kernel, strides, dilations;
};

/// Kernel, strides and dilations of a Conv or ConvTranspose node (the kernel from the weight when not given).
ConvGeometry convGeometry(OnnxEmitContext &ctx)
{
    auto w = ctx.constant(1);
    const Ints wshape = w ? Ints(w->sizes().begin(), w->sizes().end()) : ctx.shape(1);
    const size_t k = wshape.size() - 2;
    if (wshape.size() < 3 || k > 3)
        ctx.unsupported("has a " + std::to_string(wshape.size()) + "-D weight (1-D to 3-D kernels are supported)");
    ConvGeometry g{k, ctx.getInts("kernel_shape", Ints(wshape.begin() + 2, wshape.end())),
                   ctx.getInts("strides", Ints(k, 1)), ctx.getInts("dilations", Ints(k, 1))};
    for (const auto &[name, values] : {std::pair{"kernel_shape", &g.kernel}, std::pair{"strides", &g.strides},
                                       std::pair{"dilations", &g.dilations}})
        if (values->size() != k)
            ctx.unsupported("has " + std::to_string(values->size()) + " " + name + " values for a " +
                            std::to_string(k) + "-D weight");
    return g;
}

void conv(OnnxEmitContext &ctx)
{
    const auto [k, kernel, strides, dilations] = convGeometry(ctx);
    Ints begin, end;
    spatialPads(ctx, kernel, strides, dilations, begin, end);
    const std::string x = explicitPad(ctx, ctx.tensor(0), begin, end, "0.");
    const std::string weight = weightOrInput(ctx, 1, "weight"), bias = weightOrInput(ctx, 2, "bias");
    assign(ctx, "torch.conv" + std::to_string(k) + "d(" + x + ", " + weight + ", " + bias + ", " + list(strides) +
                    ", " + list(begin) + ", " + list(dilations) + ", " + std::to_string(ctx.getInt("group", 1)) + ")");
}

void convTranspose(OnnxEmitContext &ctx)
{
    const auto [k, kernel, strides, dilations] = convGeometry(ctx);
    Ints outputPadding = ctx.getInts("output_padding", Ints(k, 0));
    Ints pads = ctx.getInts("pads", Ints(2 * k, 0));
    const Ints outputShape = ctx.getInts("output_shape");
    if (outputPadding.size() != k || pads.size() != 2 * k || (!outputShape.empty() && outputShape.size() < k))
        ctx.unsupported("has " + std::to_string(pads.size()) + " pads, " + std::to_string(outputPadding.size()) +
                        " output_padding and " + std::to_string(outputShape.size()) + " output_shape values for a " +
                        std::to_string(k) + "-D weight");
    const std::string autoPad = ctx.getString("auto_pad", "NOTSET");
    if (!outputShape.empty() || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        const Ints in = ctx.shape(0);
        for (size_t d = 0; d < k; ++d) {
            const std::int64_t target = outputShape.empty() ? in.at(2 + d) * strides[d]
                                                            : outputShape.at(outputShape.size() - k + d);
            const std::int64_t total =
                strides[d] * (in.at(2 + d) - 1) + outputPadding[d] + (kernel[d] - 1) * dilations[d] + 1 - target;
            if (total < 0) { // the output is larger than the kernel covers: extra output padding
                outputPadding[d] -= total;
                pads[d] = pads[k + d] = 0;
                continue;
            }
            const bool lower = autoPad == "SAME_LOWER";
            pads[d] = lower ? total - total / 2 : total / 2;
            pads[k + d] = total - pads[d];
        }
    }
    Ints begin(pads.begin(), pads.begin() + k), end(pads.begin() + k, pads.end());
    const std::string weight = weightOrInput(ctx, 1, "weight"), bias = weightOrInput(ctx, 2, "bias");
    const std::string group = std::to_string(ctx.getInt("group", 1));
    const std::string call = "torch.conv_transpose" + std::to_string(k) + "d(" + ctx.tensor(0) + ", " + weight + ", " +
                             bias + ", " + list(strides) + ", ";
    if (begin == end) {
        assign(ctx, call + list(begin) + ", " + list(outputPadding) + ", " + group + ", " + list(dilations) + ")");
        return;
    }
    // Asymmetric: compute unpadded, then crop begin/end of each spatial dim.
    const std::string t = ctx.temporary();
    ctx.line(t + " = " + call + list(Ints(k, 0)) + ", " + list(outputPadding) + ", " + group + ", " +
             list(dilations) + ")");
    std::string index = t + "[:, :";
    for (size_t d = 0; d < k; ++d)
        index += ", " + std::to_string(begin[d]) + ":" + (end[d] ? std::to_string(-end[d]) : "");
    assign(ctx, index + "]");
}

void batchNorm(OnnxEmitContext &ctx)
{
    requireUnused(ctx, 1, "running mean (training mode)");
    const std::string eps = number(ctx.getFloat("epsilon", 1e-5f));
    assign(ctx, "torch.batch_norm(" + ctx.tensor(0) + ", " + weightOrInput(ctx, 1, "weight") + ", " +
                    weightOrInput(ctx, 2, "bias") + ", " + weightOrInput(ctx, 3, "running_mean") + ", " +
                    weightOrInput(ctx, 4, "running_var") + ", False, 0.1, " + eps + ", False)");
}

bool floating(const OnnxEmitContext &ctx, int i)
{
    const int type = ctx.elementType(i);
    return type == 0 || type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::DOUBLE ||
           type == onnx::TensorProto::FLOAT16;
}

void pool(OnnxEmitContext &ctx, bool max)
{
    if (!floating(ctx, 0))
        ctx.unsupported("pools an integer tensor, which PyTorch's pooling does not support");
    if (max)
        requireUnused(ctx, 1, "Indices");
    const Ints kernel = ctx.getInts("kernel_shape");
    const size_t k = kernel.size();
    if (k < 1 || k > 3)
        ctx.unsupported("has no 1-D to 3-D kernel_shape");
    const Ints strides = ctx.getInts("strides", Ints(k, 1)), dilations = ctx.getInts("dilations", Ints(k, 1));
    Ints begin, end;
    spatialPads(ctx, kernel, strides, dilations, begin, end);
    const bool ceil = ctx.getInt("ceil_mode", 0) != 0;
    const bool includePad = ctx.getInt("count_include_pad", 0) != 0;
    std::string x = ctx.tensor(0);
    bool tooLarge = false; // PyTorch pads at most half the kernel
    for (size_t d = 0; d < k; ++d)
        tooLarge = tooLarge || 2 * std::max(begin[d], end[d]) > kernel[d];
    if (begin != end || tooLarge) {
        if (!max && !includePad)
            ctx.unsupported("averages over uneven padding without counting it, which PyTorch cannot express");
        if (tooLarge) {
            const std::string t = ctx.temporary();
            ctx.line(t + " = torch.constant_pad_nd(" + x + ", " + padList(begin, end) + ", " +
                     (max ? "float(\"-inf\")" : "0.") + ")");
            x = t;
            std::fill(begin.begin(), begin.end(), 0);
            std::fill(end.begin(), end.end(), 0);
        } else {
            x = explicitPad(ctx, x, begin, end, max ? "float(\"-inf\")" : "0.");
        }
    }
    const std::string kd = std::to_string(k);
    if (max) {
        assign(ctx, "torch.max_pool" + kd + "d(" + x + ", " + list(kernel) + ", " + list(strides) + ", " + list(begin) +
                        ", " + list(dilations) + ", " + boolean(ceil) + ")");
        return;
    }
    if (dilations != Ints(k, 1))
        ctx.unsupported("has dilations, which PyTorch's average pooling does not support");
    const std::string args = x + ", " + list(kernel) + ", " + list(strides) + ", " + list(begin) + ", " +
                             boolean(ceil) + ", " + boolean(includePad);
    assign(ctx, k == 1 ? "torch.avg_pool1d(" + args + ")" : "torch.avg_pool" + kd + "d(" + args + ", None)");
}

void globalPool(OnnxEmitContext &ctx, bool max)
{
    const std::int64_t rank = static_cast<std::int64_t>(ctx.shape(0).size());
    if (!max && rank == 4) {
        assign(ctx, "torch.adaptive_avg_pool2d(" + ctx.tensor(0) + ", [1, 1])");
        return;
    }
    Ints dims;
    for (std::int64_t d = 2; d < rank; ++d)
        dims.push_back(d);
    assign(ctx, std::string(max ? "torch.amax(" : "torch.mean(") + ctx.tensor(0) + ", " + list(dims) + ", True)");
}

void lrn(OnnxEmitContext &ctx)
{
    const std::int64_t size = ctx.getInt("size", 1);
    if (ctx.shape(0).size() != 4)
        ctx.unsupported("normalises a tensor that is not N×C×H×W");
    const std::string x = ctx.tensor(0), sq = ctx.temporary();
    ctx.line(sq + " = torch.unsqueeze(" + x + " * " + x + ", 1)");
    ctx.line(sq + " = torch.constant_pad_nd(" + sq + ", [0, 0, 0, 0, " + std::to_string(size / 2) + ", " +
             std::to_string((size - 1) / 2) + "], 0.)");
    ctx.line(sq + " = torch.squeeze(torch.avg_pool3d(" + sq + ", [" + std::to_string(size) +
             ", 1, 1], [1, 1, 1], [0, 0, 0], False, True, None), 1)");
    assign(ctx, x + " / torch.pow(" + sq + " * " + number(ctx.getFloat("alpha", 1e-4f)) + " + " +
                    number(ctx.getFloat("bias", 1.0f)) + ", " + number(ctx.getFloat("beta", 0.75f)) + ")");
}

void clip(OnnxEmitContext &ctx)
{
    std::optional<double> lo, hi;
    if (ctx.opset() < 11) {
        if (ctx.attribute("min"))
            lo = ctx.getFloat("min", 0);
        if (ctx.attribute("max"))
            hi = ctx.getFloat("max", 0);
    } else {
        for (int i : {1, 2}) {
            if (!ctx.has(i))
                continue;
            auto c = ctx.constant(i);
            if (!c)
                ctx.unsupported("its bounds are computed at run time");
            (i == 1 ? lo : hi) = c->item<double>();
        }
    }
    const std::string x = ctx.tensor(0);
    const int type = ctx.elementType(0);
    const bool integer = type != 0 && type != onnx::TensorProto::FLOAT && type != onnx::TensorProto::DOUBLE &&
                         type != onnx::TensorProto::FLOAT16;
    auto bound = [&](const std::optional<double> &b) {
        return !b ? std::string("None") : integer ? std::to_string(static_cast<std::int64_t>(*b)) : number(*b);
    };
    if (!lo && !hi)
        assign(ctx, x);
    else if (lo && *lo == 0 && hi && *hi == 6 && !integer)
        assign(ctx, "torch.hardtanh(" + x + ", 0., 6.)"); // ReLU6, as PyTorch writes it
    else if (lo && *lo == 0 && !hi && !integer)
        assign(ctx, "torch.relu(" + x + ")");
    else
        assign(ctx, "torch.clamp(" + x + ", " + bound(lo) + ", " + bound(hi) + ")");
}

void softmax(OnnxEmitContext &ctx, const std::string &fn)
{
    const std::int64_t axisAttr = ctx.getInt("axis", ctx.opset() >= 13 ? -1 : 1);
    if (ctx.opset() >= 13) {
        assign(ctx, "torch." + fn + "(" + ctx.tensor(0) + ", " + std::to_string(axisAttr) + ")");
        return;
    }
    // Before opset 13 the input is seen as 2-D: [prod(dims before axis), prod(the rest)].
    const std::int64_t rank = static_cast<std::int64_t>(ctx.shape(0).size());
    const std::int64_t axis = normalizeAxis(ctx, axisAttr, rank);
    const std::string x = ctx.tensor(0);
    if (axis == rank - 1) {
        assign(ctx, "torch." + fn + "(" + x + ", -1)");
        return;
    }
    assign(ctx, "torch." + fn + "(torch.flatten(" + x + ", " + std::to_string(axis) + "), -1).reshape(" + x +
                    ".size())");
}

void binary(OnnxEmitContext &ctx, const std::string &fn)
{
    const bool commutative = fn == "add" || fn == "mul";
    int a = 0, b = 1;
    if (commutative && ctx.constant(0) && !ctx.constant(1))
        std::swap(a, b);
    const std::string rhs = ctx.scalarOrTensor(b);
    const int type = ctx.elementType(a);
    const bool integer = type == onnx::TensorProto::INT64 || type == onnx::TensorProto::INT32 ||
                         type == onnx::TensorProto::INT16 || type == onnx::TensorProto::INT8 ||
                         type == onnx::TensorProto::UINT8;
    if (fn == "pow" && integer) { // ONNX keeps the base's type
        assign(ctx, "torch.pow(" + ctx.tensor(0) + ", " + ctx.scalarOrTensor(1) + ").to(" + ctx.tensor(0) + ".dtype)");
        return;
    }
    if (fn == "div") {
        assign(ctx, "torch.div(" + ctx.tensor(a) + ", " + rhs + (integer ? ", rounding_mode=\"trunc\")" : ")"));
        return;
    }
    assign(ctx, "torch." + fn + "(" + ctx.tensor(a) + ", " + rhs + ")");
}

void variadic(OnnxEmitContext &ctx, const std::string &fn, bool mean)
{
    std::string expr = ctx.tensor(0);
    for (int i = 1; i < ctx.inputCount(); ++i)
        expr = "torch." + fn + "(" + expr + ", " + ctx.tensor(i) + ")";
    if (mean)
        expr = "torch.div(" + expr + ", " + std::to_string(ctx.inputCount()) + ".)";
    assign(ctx, expr);
}

void gemm(OnnxEmitContext &ctx)
{
    const double alpha = ctx.getFloat("alpha", 1.f), beta = ctx.getFloat("beta", 1.f);
    const bool transA = ctx.getInt("transA", 0) != 0, transB = ctx.getInt("transB", 0) != 0;
    auto b = ctx.constant(1);
    std::string a = ctx.tensor(0);
    if (transA)
        a = "torch.t(" + a + ")";
    std::optional<torch::Tensor> c = ctx.has(2) ? ctx.constant(2) : std::nullopt;
    if (b && b->dim() == 2 && alpha == 1.0) {
        // A linear layer: weight stored as out×in, as nn.Linear does.
        const std::string weight = ctx.parameter(1, "weight", (transB ? *b : b->t()).contiguous().to(torch::kFloat));
        const bool biasIsVector = c && c->numel() == b->size(transB ? 0 : 1) && beta == 1.0;
        const std::string bias = biasIsVector ? ctx.parameter(2, "bias", c->reshape({-1}).to(torch::kFloat)) : "None";
        std::string expr = "torch.linear(" + a + ", " + weight + ", " + bias + ")";
        if (ctx.has(2) && !biasIsVector)
            expr = "torch.add(" + expr + ", torch.mul(" + ctx.tensor(2) + ", " + number(beta) + "))";
        assign(ctx, expr);
        return;
    }
    std::string bexpr = ctx.tensor(1);
    if (transB)
        bexpr = "torch.t(" + bexpr + ")";
    std::string expr = "torch.matmul(" + a + ", " + bexpr + ")";
    if (alpha != 1.0)
        expr = "torch.mul(" + expr + ", " + number(alpha) + ")";
    if (ctx.has(2))
        expr = "torch.add(" + expr + ", " + (beta == 1.0 ? ctx.tensor(2) : "torch.mul(" + ctx.tensor(2) + ", " + number(beta) + ")") + ")";
    assign(ctx, expr);
}

void matmul(OnnxEmitContext &ctx)
{
    auto b = ctx.constant(1);
    if (b && b->dim() == 2 && !ctx.constant(0)) {
        const std::string weight = ctx.parameter(1, "weight", b->t().contiguous().to(torch::kFloat));
        assign(ctx, "torch.linear(" + ctx.tensor(0) + ", " + weight + ", None)");
        return;
    }
    assign(ctx, "torch.matmul(" + ctx.tensor(0) + ", " + ctx.tensor(1) + ")");
}

Ints axesOf(OnnxEmitContext &ctx, int inputIndex, const char *attr)
{
    if (ctx.attribute(attr))
        return ctx.getInts(attr);
    if (auto v = ctx.constantInts(inputIndex))
        return *v;
    return {};
}

void reshape(OnnxEmitContext &ctx)
{
    auto target = ctx.constantInts(1);
    if (!target)
        ctx.unsupported("has no target shape");
    const std::string x = ctx.tensor(0);
    const bool allowZero = ctx.getInt("allowzero", 0) != 0;
    std::vector<std::string> parts;
    for (size_t i = 0; i < target->size(); ++i) {
        const std::int64_t v = (*target)[i];
        if (v == OnnxEmitContext::batchEntry)
            parts.push_back(x + ".size(0)"); // the running batch, which the tensor being reshaped leads with
        else if (v == 0 && !allowZero)
            parts.push_back(x + ".size(" + std::to_string(i) + ")");
        else if (i == 0 && ctx.exportedBatch() > 0 && v == ctx.exportedBatch())
            parts.push_back(x + ".size(0)"); // the batch the file was exported with: keep whatever batch runs
        else
            parts.push_back(std::to_string(v));
    }
    std::string s = "[";
    for (size_t i = 0; i < parts.size(); ++i)
        s += (i ? ", " : "") + parts[i];
    assign(ctx, "torch.reshape(" + x + ", " + s + "])");
}

void flatten(OnnxEmitContext &ctx)
{
    std::int64_t axis = ctx.getInt("axis", 1);
    const std::string x = ctx.tensor(0);
    if (axis < 0)
        axis += static_cast<std::int64_t>(ctx.shape(0).size());
    if (axis == 0)
        assign(ctx, "torch.reshape(" + x + ", [1, -1])");
    else if (axis == 1 && ctx.shape(0).size() >= 2)
        assign(ctx, "torch.flatten(" + x + ", 1)");
    else if (axis == 1)
        assign(ctx, "torch.reshape(" + x + ", [" + x + ".size(0), -1])");
    else
        assign(ctx, "torch.flatten(torch.flatten(" + x + ", " + std::to_string(axis) + "), 0, " +
                        std::to_string(axis - 1) + ")");
}

void squeeze(OnnxEmitContext &ctx, bool un)
{
    Ints axes = axesOf(ctx, 1, "axes");
    std::string expr = ctx.tensor(0);
    if (!un && axes.empty()) {
        assign(ctx, "torch.squeeze(" + expr + ")");
        return;
    }
    const std::int64_t inRank = static_cast<std::int64_t>(ctx.shape(0).size());
    const std::int64_t rank = un ? inRank + static_cast<std::int64_t>(axes.size()) : inRank;
    for (auto &a : axes)
        a = normalizeAxis(ctx, a, rank);
    std::sort(axes.begin(), axes.end());
    if (!un)
        std::reverse(axes.begin(), axes.end());
    for (auto a : axes)
        expr = std::string(un ? "torch.unsqueeze(" : "torch.squeeze(") + expr + ", " + std::to_string(a) + ")";
    assign(ctx, expr);
}

void concat(OnnxEmitContext &ctx)
{
    std::string items;
    for (int i = 0; i < ctx.inputCount(); ++i)
        if (ctx.has(i))
            items += (items.empty() ? "" : ", ") + ctx.tensor(i);
    assign(ctx, "torch.cat([" + items + "], " + std::to_string(ctx.getInt("axis", 0)) + ")");
}

void split(OnnxEmitContext &ctx)
{
    const std::int64_t rank = static_cast<std::int64_t>(ctx.shape(0).size());
    const std::int64_t axis = normalizeAxis(ctx, ctx.getInt("axis", 0), rank);
    Ints sizes = axesOf(ctx, 1, "split");
    if (sizes.empty()) {
        const std::int64_t total = ctx.shape(0).at(static_cast<size_t>(axis)), n = ctx.outputCount();
        const std::int64_t each = (total + n - 1) / n;
        for (std::int64_t i = 0; i < n; ++i)
            sizes.push_back(std::min(each, total - i * each));
    }
    const std::string t = ctx.temporary();
    ctx.line(t + " = torch.split_with_sizes(" + ctx.tensor(0) + ", " + list(sizes) + ", " + std::to_string(axis) + ")");
    for (int o = 0; o < ctx.outputCount(); ++o) {
        const std::string out = ctx.output(o);
        if (!out.empty())
            ctx.line(out + " = " + t + "[" + std::to_string(o) + "]");
    }
}

void slice(OnnxEmitContext &ctx)
{
    Ints starts, ends, axes, steps;
    if (ctx.opset() < 10) {
        starts = ctx.getInts("starts");
        ends = ctx.getInts("ends");
        axes = ctx.getInts("axes");
    } else {
        starts = ctx.constantInts(1).value_or(Ints{});
        ends = ctx.constantInts(2).value_or(Ints{});
        axes = ctx.constantInts(3).value_or(Ints{});
        steps = ctx.constantInts(4).value_or(Ints{});
    }
    const std::int64_t rank = static_cast<std::int64_t>(ctx.shape(0).size());
    if (axes.empty())
        for (size_t i = 0; i < starts.size(); ++i)
            axes.push_back(static_cast<std::int64_t>(i));
    if (steps.empty())
        steps.assign(starts.size(), 1);
    std::vector<std::string> index(static_cast<size_t>(rank), ":");
    Ints flipped; // a negative step walks a flipped copy forwards
    for (size_t i = 0; i < axes.size(); ++i) {
        const std::int64_t a = normalizeAxis(ctx, axes[i], rank);
        if (steps[i] == 0)
            ctx.unsupported("slices with step 0");
        const std::int64_t big = std::int64_t(1) << 62;
        std::int64_t s = std::max(std::min(starts[i], big), -big), e = std::max(std::min(ends[i], big), -big);
        if (steps[i] < 0) {
            const std::int64_t dim = ctx.shape(0).at(static_cast<size_t>(a));
            s = std::clamp(s < 0 ? s + dim : s, std::int64_t(0), dim - 1);
            e = std::clamp(e < 0 ? e + dim : e, std::int64_t(-1), dim - 1);
            flipped.push_back(a);
            const std::int64_t from = dim - 1 - s, to = dim - 1 - e;
            index[static_cast<size_t>(a)] = std::to_string(from) + ":" + std::to_string(std::max(from, to)) +
                                             (steps[i] != -1 ? ":" + std::to_string(-steps[i]) : "");
            continue;
        }
        index[static_cast<size_t>(a)] =
            std::to_string(s) + ":" + std::to_string(e) + (steps[i] != 1 ? ":" + std::to_string(steps[i]) : "");
    }
    std::string expr = (flipped.empty() ? ctx.tensor(0) : "torch.flip(" + ctx.tensor(0) + ", " + list(flipped) + ")") + "[";
    for (size_t i = 0; i < index.size(); ++i)
        expr += (i ? ", " : "") + index[i];
    assign(ctx, expr + "]");
}

void gather(OnnxEmitContext &ctx)
{
    const Ints shape = ctx.shape(0);
    const std::int64_t axis = normalizeAxis(ctx, ctx.getInt("axis", 0), static_cast<std::int64_t>(shape.size()));
    auto idx = ctx.constant(1);
    const std::string x = ctx.tensor(0), a = std::to_string(axis);
    const std::int64_t extent = shape.at(static_cast<size_t>(axis));
    if (idx && idx->dim() == 0) {
        std::int64_t i = idx->item<std::int64_t>();
        assign(ctx, "torch.select(" + x + ", " + a + ", " + std::to_string(i < 0 ? i + extent : i) + ")");
        return;
    }
    const std::string i = ctx.tensor(1), t = ctx.temporary();
    // Negative indices count from the end.
    ctx.line(t + " = torch.remainder(" + i + ", " + std::to_string(extent) + ")");
    std::string out = "[";
    Ints idxShape = idx ? Ints(idx->sizes().begin(), idx->sizes().end()) : ctx.shape(1);
    std::string dims;
    for (std::int64_t d = 0; d < axis; ++d)
        dims += (dims.empty() ? "" : ", ") + x + ".size(" + std::to_string(d) + ")";
    for (auto d : idxShape)
        dims += (dims.empty() ? "" : ", ") + std::to_string(d);
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d)
        dims += (dims.empty() ? "" : ", ") + x + ".size(" + std::to_string(d) + ")";
    assign(ctx, "torch.reshape(torch.index_select(" + x + ", " + a + ", torch.flatten(" + t + ")), [" + dims + "])");
}

void pad(OnnxEmitContext &ctx)
{
    const std::string mode = ctx.getString("mode", "constant");
    Ints pads = ctx.opset() < 11 ? ctx.getInts("pads") : ctx.constantInts(1).value_or(Ints{});
    const size_t rank = pads.size() / 2;
    double value = ctx.opset() < 11 ? ctx.getFloat("value", 0.f) : 0.0;
    if (ctx.opset() >= 11 && ctx.has(2)) {
        auto c = ctx.constant(2);
        if (!c)
            ctx.unsupported("its pad value is computed at run time");
        value = c->item<double>();
    }
    Ints begin(pads.begin(), pads.begin() + rank), end(pads.begin() + rank, pads.end());
    const std::string x = ctx.tensor(0);
    if (mode == "constant") {
        assign(ctx, "torch.constant_pad_nd(" + x + ", " + padList(begin, end) + ", " + number(value) + ")");
        return;
    }
    if (rank < 3 || begin[0] || begin[1] || end[0] || end[1] || rank > 5)
        ctx.unsupported("pads the batch or channel dimension in " + mode + " mode");
    const Ints sb(begin.begin() + 2, begin.end()), se(end.begin() + 2, end.end());
    if (!floating(ctx, 0))
        ctx.unsupported("pads an integer tensor in " + mode + " mode, which PyTorch does not support");
    const std::string fn = (mode == "reflect" ? "reflection_pad" : mode == "edge" ? "replication_pad" : "");
    if (fn.empty())
        ctx.unsupported("mode '" + mode + "' is not supported");
    assign(ctx, "torch." + fn + std::to_string(rank - 2) + "d(" + x + ", " + padList(sb, se) + ")");
}

/// ONNX's nearest-neighbour source index for output position `x` (coordinate transform + rounding mode).
std::int64_t nearestSource(OnnxEmitContext &ctx, const std::string &transform, const std::string &rounding,
                           std::int64_t x, std::int64_t in, std::int64_t out, double scale)
{
    double orig = 0;
    if (transform == "asymmetric")
        orig = x / scale;
    else if (transform == "half_pixel")
        orig = (x + 0.5) / scale - 0.5;
    else if (transform == "pytorch_half_pixel")
        orig = out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    else if (transform == "align_corners")
        orig = out > 1 ? x * double(in - 1) / double(out - 1) : 0.0;
    else
        ctx.unsupported("coordinate_transformation_mode '" + transform + "' is not supported");
    double r = 0;
    const double frac = orig - std::floor(orig);
    if (rounding == "floor")
        r = std::floor(orig);
    else if (rounding == "ceil")
        r = std::ceil(orig);
    else if (rounding == "round_prefer_ceil")
        r = frac == 0.5 ? std::ceil(orig) : std::round(orig);
    else
        r = frac == 0.5 ? std::floor(orig) : std::round(orig);
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(r), 0, in - 1);
}

void resize(OnnxEmitContext &ctx)
{
    const Ints in = ctx.shape(0);
    if (in.size() != 4)
        ctx.unsupported("resizes a tensor that is not N×C×H×W");
    std::vector<double> scales;
    Ints sizes;
    if (ctx.node().op_type() == "Upsample") {
        if (ctx.attribute("scales")) {
            for (float f : ctx.getFloats("scales"))
                scales.push_back(f);
        } else if (auto c = ctx.constant(1)) {
            auto t = c->to(torch::kDouble).contiguous();
            scales.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
        }
    } else {
        const int scalesInput = ctx.opset() < 11 ? 1 : 2;
        if (ctx.has(scalesInput)) {
            auto c = ctx.constant(scalesInput);
            if (!c)
                ctx.unsupported("its scales are computed at run time");
            if (c->numel() > 0) {
                auto t = c->to(torch::kDouble).contiguous();
                scales.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
            }
        }
        if (ctx.opset() >= 11 && ctx.has(3))
            sizes = ctx.constantInts(3).value_or(Ints{});
    }
    const bool fromScales = sizes.empty();
    if (fromScales) {
        if (scales.size() != 4)
            ctx.unsupported("has neither 4 scales nor sizes known when the model is loaded");
        sizes = {in[0], in[1], static_cast<std::int64_t>(std::floor(in[2] * scales[2])),
                 static_cast<std::int64_t>(std::floor(in[3] * scales[3]))};
    } else {
        if (sizes.size() != 4)
            ctx.unsupported("has sizes for other than 4 dimensions");
        scales = {1.0, 1.0, double(sizes[2]) / double(in[2]), double(sizes[3]) / double(in[3])};
    }
    if (sizes[0] != in[0] || sizes[1] != in[1])
        ctx.unsupported("resizes the batch or channel dimension");
    const std::string mode = ctx.getString("mode", "nearest");
    const bool legacy = ctx.node().op_type() == "Upsample" || ctx.opset() < 11;
    const std::string transform = legacy ? "asymmetric" : ctx.getString("coordinate_transformation_mode", "half_pixel");
    const std::string x = ctx.tensor(0);
    // PyTorch's own kernels, given the scale factors so they map coordinates as ONNX does.
    const std::string size = "[" + std::to_string(sizes[2]) + ", " + std::to_string(sizes[3]) + "]";
    const std::string factors = "[" + number(scales[2]) + ", " + number(scales[3]) + "]";
    const std::string sizeOrFactors = fromScales ? "None, " + factors : size + ", None";
    if (mode == "nearest") {
        const std::string rounding = legacy ? "floor" : ctx.getString("nearest_mode", "round_prefer_floor");
        if (transform == "asymmetric" && rounding == "floor") {
            assign(ctx, "torch.upsample_nearest2d(" + x + ", " + sizeOrFactors + ")");
            return;
        }
        // Any other combination: the source row and column of every output pixel, computed here.
        Ints rows, cols;
        for (std::int64_t y = 0; y < sizes[2]; ++y)
            rows.push_back(nearestSource(ctx, transform, rounding, y, in[2], sizes[2], scales[2]));
        for (std::int64_t c = 0; c < sizes[3]; ++c)
            cols.push_back(nearestSource(ctx, transform, rounding, c, in[3], sizes[3], scales[3]));
        assign(ctx, "torch.index_select(torch.index_select(" + x + ", 2, torch.tensor(" + list(rows) +
                        ")), 3, torch.tensor(" + list(cols) + "))");
        return;
    }
    if (mode == "linear" || mode == "bilinear") {
        const bool sizeOne = sizes[2] == 1 || sizes[3] == 1;
        if (transform == "align_corners" && !sizeOne)
            assign(ctx, "torch.upsample_bilinear2d(" + x + ", " + size + ", True, None)");
        else if (transform == "half_pixel" || (transform == "pytorch_half_pixel" && !sizeOne))
            assign(ctx, "torch.upsample_bilinear2d(" + x + ", " +
                            (fromScales ? "None, False, " + factors : size + ", False, None") + ")");
        else
            ctx.unsupported("linear resizing with coordinate_transformation_mode '" + transform +
                            "' is not supported");
        return;
    }
    ctx.unsupported("mode '" + mode + "' is not supported");
}

void reduce(OnnxEmitContext &ctx, const std::string &fn)
{
    const bool axesAsInput = (ctx.node().op_type() == "ReduceSum" && ctx.opset() >= 13);
    Ints axes = axesAsInput ? ctx.constantInts(1).value_or(Ints{}) : ctx.getInts("axes");
    const bool keep = ctx.getInt("keepdims", 1) != 0;
    const std::string x = ctx.tensor(0);
    if (axes.empty()) {
        if (axesAsInput && ctx.getInt("noop_with_empty_axes", 0)) {
            assign(ctx, x);
            return;
        }
        for (size_t d = 0; d < ctx.shape(0).size(); ++d)
            axes.push_back(static_cast<std::int64_t>(d));
    }
    assign(ctx, "torch." + fn + "(" + x + ", " + list(axes) + ", " + boolean(keep) + ")");
}

std::string dtypeName(const OnnxEmitContext &ctx, std::int64_t onnxType)
{
    static const std::map<std::int64_t, std::string> names = {
        // c10::ScalarType codes: the native resolver of Module::define has no torch.float32 names
        {onnx::TensorProto::FLOAT, "6"}, {onnx::TensorProto::DOUBLE, "7"}, {onnx::TensorProto::FLOAT16, "5"},
        {onnx::TensorProto::INT64, "4"}, {onnx::TensorProto::INT32, "3"}, {onnx::TensorProto::INT16, "2"},
        {onnx::TensorProto::INT8, "1"}, {onnx::TensorProto::UINT8, "0"}, {onnx::TensorProto::BOOL, "11"}};
    auto it = names.find(onnxType);
    if (it == names.end())
        ctx.unsupported("casts to an element type Convscope does not handle");
    return it->second;
}

void prelu(OnnxEmitContext &ctx)
{
    auto slope = ctx.constant(1);
    const std::string x = ctx.tensor(0);
    if (slope) {
        const Ints in = ctx.shape(0);
        // One slope, or one per channel broadcast as C×1×...: nn.PReLU's form.
        bool perChannel = in.size() >= 2 && slope->numel() == in[1] && slope->dim() == static_cast<int64_t>(in.size()) - 1;
        if (perChannel)
            for (int64_t d = 1; d < slope->dim(); ++d)
                perChannel = perChannel && slope->size(d) == 1;
        if (slope->numel() == 1 || perChannel) {
            assign(ctx, "torch.prelu(" + x + ", " + ctx.parameter(1, "weight", slope->reshape({-1}).to(torch::kFloat)) + ")");
            return;
        }
    }
    assign(ctx, "torch.where(torch.lt(" + x + ", 0.), torch.mul(" + x + ", " + ctx.tensor(1) + "), " + x + ")");
}

using Emitter = std::function<void(OnnxEmitContext &)>;

const std::map<std::string, Emitter> &emitters()
{
    static const std::map<std::string, Emitter> table = [] {
        std::map<std::string, Emitter> t;
        auto unary = [&t](const std::string &op, const std::string &fn) {
            t[op] = [fn](OnnxEmitContext &c) { assign(c, fn + "(" + c.tensor(0) + ")"); };
        };
        t["Conv"] = conv;
        t["ConvTranspose"] = convTranspose;
        t["BatchNormalization"] = batchNorm;
        t["InstanceNormalization"] = [](OnnxEmitContext &c) {
            assign(c, "torch.instance_norm(" + c.tensor(0) + ", " + weightOrInput(c, 1, "weight") + ", " +
                          weightOrInput(c, 2, "bias") + ", None, None, True, 0.1, " +
                          number(c.getFloat("epsilon", 1e-5f)) + ", False)");
        };
        t["LayerNormalization"] = [](OnnxEmitContext &c) {
            requireUnused(c, 1, "Mean");
            requireUnused(c, 2, "InvStdDev");
            const Ints in = c.shape(0);
            const std::int64_t axis = normalizeAxis(c, c.getInt("axis", -1), static_cast<std::int64_t>(in.size()));
            const Ints normalized(in.begin() + axis, in.end());
            assign(c, "torch.layer_norm(" + c.tensor(0) + ", " + list(normalized) + ", " + weightOrInput(c, 1, "weight") +
                          ", " + weightOrInput(c, 2, "bias") + ", " + number(c.getFloat("epsilon", 1e-5f)) + ", False)");
        };
        t["LRN"] = lrn;
        unary("Relu", "torch.relu");
        t["LeakyRelu"] = [](OnnxEmitContext &c) {
            assign(c, "torch.leaky_relu(" + c.tensor(0) + ", " + number(c.getFloat("alpha", 0.01f)) + ")");
        };
        t["PRelu"] = prelu;
        t["Clip"] = clip;
        unary("Sigmoid", "torch.sigmoid");
        unary("Tanh", "torch.tanh");
        t["HardSigmoid"] = [](OnnxEmitContext &c) {
            const double alpha = c.getFloat("alpha", 0.2f), beta = c.getFloat("beta", 0.5f);
            if (std::abs(alpha - 1.0 / 6.0) < 1e-7 && beta == 0.5)
                assign(c, "torch.hardsigmoid(" + c.tensor(0) + ")");
            else
                assign(c, "torch.clamp(torch.add(torch.mul(" + c.tensor(0) + ", " + number(alpha) + "), " +
                              number(beta) + "), 0., 1.)");
        };
        unary("HardSwish", "torch.hardswish");
        t["Elu"] = [](OnnxEmitContext &c) {
            assign(c, "torch.elu(" + c.tensor(0) + ", " + number(c.getFloat("alpha", 1.f)) + ")");
        };
        t["Selu"] = [](OnnxEmitContext &c) {
            const double alpha = c.getFloat("alpha", 1.67326319217681884765625f);
            const double gamma = c.getFloat("gamma", 1.05070102214813232421875f);
            assign(c, "torch.elu(" + c.tensor(0) + ", " + number(alpha) + ", " + number(gamma) + ")");
        };
        unary("Softplus", "torch.softplus");
        t["Softsign"] = [](OnnxEmitContext &c) {
            assign(c, "torch.div(" + c.tensor(0) + ", torch.add(torch.abs(" + c.tensor(0) + "), 1.))");
        };
        t["Softmax"] = [](OnnxEmitContext &c) { softmax(c, "softmax"); };
        t["LogSoftmax"] = [](OnnxEmitContext &c) { softmax(c, "log_softmax"); };
        unary("Erf", "torch.erf");
        unary("Exp", "torch.exp");
        unary("Log", "torch.log");
        unary("Sqrt", "torch.sqrt");
        unary("Abs", "torch.abs");
        unary("Neg", "torch.neg");
        unary("Reciprocal", "torch.reciprocal");
        unary("Floor", "torch.floor");
        unary("Ceil", "torch.ceil");
        unary("Not", "torch.logical_not");
        unary("Sign", "torch.sign");
        t["Add"] = [](OnnxEmitContext &c) { binary(c, "add"); };
        t["Sub"] = [](OnnxEmitContext &c) { binary(c, "sub"); };
        t["Mul"] = [](OnnxEmitContext &c) { binary(c, "mul"); };
        t["Div"] = [](OnnxEmitContext &c) { binary(c, "div"); };
        t["Pow"] = [](OnnxEmitContext &c) { binary(c, "pow"); };
        t["Equal"] = [](OnnxEmitContext &c) { binary(c, "eq"); };
        t["Greater"] = [](OnnxEmitContext &c) { binary(c, "gt"); };
        t["Less"] = [](OnnxEmitContext &c) { binary(c, "lt"); };
        t["Max"] = [](OnnxEmitContext &c) { variadic(c, "maximum", false); };
        t["Min"] = [](OnnxEmitContext &c) { variadic(c, "minimum", false); };
        t["Sum"] = [](OnnxEmitContext &c) { variadic(c, "add", false); };
        t["Mean"] = [](OnnxEmitContext &c) { variadic(c, "add", true); };
        t["Where"] = [](OnnxEmitContext &c) {
            assign(c, "torch.where(" + c.tensor(0) + ", " + c.tensor(1) + ", " + c.tensor(2) + ")");
        };
        t["Gemm"] = gemm;
        t["MatMul"] = matmul;
        t["MaxPool"] = [](OnnxEmitContext &c) { pool(c, true); };
        t["AveragePool"] = [](OnnxEmitContext &c) { pool(c, false); };
        t["GlobalAveragePool"] = [](OnnxEmitContext &c) { globalPool(c, false); };
        t["GlobalMaxPool"] = [](OnnxEmitContext &c) { globalPool(c, true); };
        t["Flatten"] = flatten;
        t["Reshape"] = reshape;
        t["Transpose"] = [](OnnxEmitContext &c) {
            Ints perm = c.getInts("perm");
            if (perm.empty())
                for (size_t d = c.shape(0).size(); d-- > 0;)
                    perm.push_back(static_cast<std::int64_t>(d));
            assign(c, "torch.permute(" + c.tensor(0) + ", " + list(perm) + ")");
        };
        t["Squeeze"] = [](OnnxEmitContext &c) { squeeze(c, false); };
        t["Unsqueeze"] = [](OnnxEmitContext &c) { squeeze(c, true); };
        t["Concat"] = concat;
        t["Split"] = split;
        t["Slice"] = slice;
        t["Gather"] = gather;
        t["Pad"] = pad;
        t["Resize"] = resize;
        t["Upsample"] = resize;
        t["ReduceMean"] = [](OnnxEmitContext &c) { reduce(c, "mean"); };
        t["ReduceSum"] = [](OnnxEmitContext &c) { reduce(c, "sum"); };
        t["ReduceMax"] = [](OnnxEmitContext &c) { reduce(c, "amax"); };
        t["ReduceMin"] = [](OnnxEmitContext &c) { reduce(c, "amin"); };
        t["ArgMax"] = [](OnnxEmitContext &c) {
            if (c.getInt("select_last_index", 0))
                c.unsupported("selects the last maximum");
            assign(c, "torch.argmax(" + c.tensor(0) + ", " + std::to_string(c.getInt("axis", 0)) + ", " +
                          boolean(c.getInt("keepdims", 1) != 0) + ")");
        };
        t["Dropout"] = [](OnnxEmitContext &c) {
            requireUnused(c, 1, "mask");
            if (c.has(2)) { // training_mode
                auto training = c.constant(2);
                if (!training || training->item<bool>())
                    c.unsupported("drops out in training mode");
            }
            assign(c, c.tensor(0));
        };
        t["Identity"] = [](OnnxEmitContext &c) { assign(c, c.tensor(0)); };
        t["Cast"] = [](OnnxEmitContext &c) {
            assign(c, c.tensor(0) + ".to(" + dtypeName(c, c.getInt("to", onnx::TensorProto::FLOAT)) + ")");
        };
        t["Shape"] = [](OnnxEmitContext &c) {
            // Folded by the importer when the shape is known at load time; otherwise computed.
            Ints shape = c.shape(0);
            std::int64_t rank = static_cast<std::int64_t>(shape.size());
            std::int64_t start = c.getInt("start", 0), end = c.getInt("end", rank);
            start = std::clamp(start < 0 ? start + rank : start, std::int64_t(0), rank);
            end = std::clamp(end < 0 ? end + rank : end, std::int64_t(0), rank);
            assign(c, "torch.tensor(" + c.tensor(0) + ".size()[" + std::to_string(start) + ":" + std::to_string(end) + "])");
        };
        t["ConstantOfShape"] = [](OnnxEmitContext &c) {
            auto shape = c.constantInts(0);
            double value = 0.0;
            std::string dtype = "6"; // float32
            if (const auto *a = c.attribute("value")) {
                if (a->t().data_type() == onnx::TensorProto::INT64) {
                    dtype = "4"; // int64
                    value = a->t().int64_data_size() ? double(a->t().int64_data(0)) : 0.0;
                    if (a->t().has_raw_data() && a->t().raw_data().size() == 8)
                        value = double(*reinterpret_cast<const std::int64_t *>(a->t().raw_data().data()));
                } else {
                    value = a->t().float_data_size() ? a->t().float_data(0) : 0.0;
                    if (a->t().has_raw_data() && a->t().raw_data().size() == 4)
                        value = *reinterpret_cast<const float *>(a->t().raw_data().data());
                }
            }
            assign(c, "torch.full(" + list(*shape) + ", " + number(value) + ", dtype=" + dtype + ")");
        };
        t["Expand"] = [](OnnxEmitContext &c) {
            auto shape = c.constantInts(1);
            assign(c, "torch.mul(" + c.tensor(0) + ", torch.ones(" + list(*shape) + ", dtype=" + c.tensor(0) + ".dtype))");
        };
        t["Tile"] = [](OnnxEmitContext &c) {
            assign(c, "torch.tile(" + c.tensor(0) + ", " + list(*c.constantInts(1)) + ")");
        };
        return t;
    }();
    return table;
}

} // namespace

bool OnnxOperators::supports(const std::string &opType) { return emitters().count(opType) > 0; }

std::vector<std::string> OnnxOperators::supported()
{
    std::vector<std::string> out;
    for (const auto &[name, fn] : emitters())
        out.push_back(name);
    return out;
}

bool OnnxOperators::isLayer(const std::string &opType)
{
    static const char *layers[] = {"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization",
                                   "InstanceNormalization", "LayerNormalization", "LRN", "Relu", "LeakyRelu",
                                   "PRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu", "Selu",
                                   "Softplus", "Softmax", "LogSoftmax", "MaxPool", "AveragePool",
                                   "GlobalAveragePool", "GlobalMaxPool", "Resize", "Upsample"};
    return std::find(std::begin(layers), std::end(layers), opType) != std::end(layers);
}

bool OnnxOperators::foldable(const std::string &opType)
{
    return supports(opType) && opType != "Dropout";
}

void OnnxOperators::emit(OnnxEmitContext &ctx)
{
    auto it = emitters().find(ctx.node().op_type());
    if (it == emitters().end())
        ctx.unsupported("this operator is not supported");
    it->second(ctx);
}

} // namespace convscope
