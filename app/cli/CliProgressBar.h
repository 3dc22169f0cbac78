#pragma once
// A progress bar with rate and ETA on stderr: redrawn in place on a terminal, a line every few seconds otherwise.
#include "common/Progress.h"

#include <chrono>
#include <string>

namespace convscope {

class CliProgressBar : public Progress {
public:
    explicit CliProgressBar(std::string unit, bool quiet = false);
    ~CliProgressBar() override;
    void report(std::int64_t done, std::int64_t total, const std::string &what) override;
    /// Ends the bar with a final line.
    void finish();

private:
    std::string unit_;
    bool quiet_, tty_, open_ = false;
    std::chrono::steady_clock::time_point start_, last_;
};

} // namespace convscope
