#include "model/ReceptiveField.h"

#include <algorithm>

namespace convscope {

std::pair<std::int64_t, std::int64_t> ReceptiveField::Axis::reach() const
{
    return {std::max(offset, lo), std::min(offset + stride * (positions - 1) + size, hi)};
}

ReceptiveField::Rect ReceptiveField::at(std::int64_t unitY, std::int64_t unitX) const
{
    if (scope == Scope::Global)
        return {y.lo, y.hi, x.lo, x.hi};
    const std::int64_t top = y.offset + y.stride * unitY, left = x.offset + x.stride * unitX;
    return {top, top + y.size, left, left + x.size};
}

ReceptiveField::Rect ReceptiveField::clippedAt(std::int64_t unitY, std::int64_t unitX) const
{
    Rect r = at(unitY, unitX);
    r.y0 = std::clamp(r.y0, y.lo, y.hi);
    r.y1 = std::clamp(r.y1, y.lo, y.hi);
    r.x0 = std::clamp(r.x0, x.lo, x.hi);
    r.x1 = std::clamp(r.x1, x.lo, x.hi);
    return r;
}

std::string ReceptiveField::describe() const
{
    if (scope == Scope::Global)
        return exact ? "whole image" : "whole image (approximate: " + note + ")";
    std::string s = std::to_string(y.size) + "×" + std::to_string(x.size) + " px";
    if (y.stride == x.stride)
        s += ", stride " + std::to_string(y.stride);
    else
        s += ", stride " + std::to_string(y.stride) + "×" + std::to_string(x.stride);
    if (!exact)
        s += " (approximate: " + note + ")";
    return s;
}

ReceptiveField ReceptiveField::identity(std::int64_t height, std::int64_t width)
{
    ReceptiveField f;
    f.y = {1, 0, 1, height, 0, height};
    f.x = {1, 0, 1, width, 0, width};
    return f;
}

ReceptiveField ReceptiveField::global(const ReceptiveField &from)
{
    ReceptiveField f = from;
    f.scope = Scope::Global;
    if (from.scope == Scope::Local) {
        std::tie(f.y.lo, f.y.hi) = from.y.reach();
        std::tie(f.x.lo, f.x.hi) = from.x.reach();
    }
    f.y.positions = f.x.positions = 1;
    return f;
}

ReceptiveField ReceptiveField::unknown(std::int64_t height, std::int64_t width, std::string note)
{
    ReceptiveField f = identity(height, width);
    f.scope = Scope::Global;
    f.exact = false;
    f.note = std::move(note);
    return f;
}

ReceptiveField ReceptiveField::unite(const ReceptiveField &a, const ReceptiveField &b)
{
    auto span = [](const Axis &p, const Axis &q) {
        return std::pair{std::min(p.lo, q.lo), std::max(p.hi, q.hi)};
    };
    ReceptiveField f;
    f.exact = a.exact && b.exact;
    f.note = a.exact ? b.note : a.note;
    if (a.scope == Scope::Global || b.scope == Scope::Global ||
        a.y.stride != b.y.stride || a.x.stride != b.x.stride) {
        f.scope = Scope::Global;
        const ReceptiveField ga = global(a), gb = global(b);
        std::tie(f.y.lo, f.y.hi) = span(ga.y, gb.y);
        std::tie(f.x.lo, f.x.hi) = span(ga.x, gb.x);
        if (a.scope == Scope::Local && b.scope == Scope::Local) {
            f.exact = false;
            f.note = "a sum of maps with different strides";
        }
        return f;
    }
    auto axis = [&](const Axis &p, const Axis &q) {
        const std::int64_t begin = std::min(p.offset, q.offset);
        const std::int64_t end = std::max(p.offset + p.size, q.offset + q.size);
        Axis r{p.stride, begin, end - begin, std::max(p.positions, q.positions), 0, 0};
        std::tie(r.lo, r.hi) = span(p, q);
        return r;
    };
    f.y = axis(a.y, b.y);
    f.x = axis(a.x, b.x);
    return f;
}

} // namespace convscope
