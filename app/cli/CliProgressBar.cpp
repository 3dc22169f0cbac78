#include "cli/CliProgressBar.h"

#include <cstdio>
#include <unistd.h>

namespace convscope {

namespace {
std::string clock(double seconds)
{
    const long s = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}
} // namespace

CliProgressBar::CliProgressBar(std::string unit, bool quiet)
    : unit_(std::move(unit)), quiet_(quiet), tty_(isatty(fileno(stderr))),
      start_(std::chrono::steady_clock::now()), last_(start_)
{
}

CliProgressBar::~CliProgressBar() { finish(); }

void CliProgressBar::report(std::int64_t done, std::int64_t total, const std::string &what)
{
    if (quiet_)
        return;
    const auto now = std::chrono::steady_clock::now();
    const double sinceLast = std::chrono::duration<double>(now - last_).count();
    if (done < total && sinceLast < (tty_ ? 0.1 : 5.0))
        return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double fraction = total > 0 ? double(done) / total : 0.0;
    const double rate = elapsed > 0 ? done / elapsed : 0.0;
    const double eta = rate > 0 ? (total - done) / rate : 0.0;
    const int width = 30, filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    std::fprintf(stderr, "%s%s [%s] %3d%% %lld/%lld %s, %.0f %s/s, %s %s%s", tty_ ? "\r" : "", what.c_str(),
                 bar.c_str(), static_cast<int>(fraction * 100), static_cast<long long>(done),
                 static_cast<long long>(total), unit_.c_str(), rate, unit_.c_str(),
                 done < total ? "ETA" : "took", clock(done < total ? eta : elapsed).c_str(), tty_ ? "   " : "\n");
    std::fflush(stderr);
    open_ = tty_;
}

void CliProgressBar::finish()
{
    if (open_)
        std::fputc('\n', stderr);
    open_ = false;
}

} // namespace convscope
