#include "common/RuntimePolicy.h"

#include <torch/torch.h>

#include <csignal>
#include <cstdlib>
#include <malloc.h>
#include <string>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

namespace convscope {

void RuntimePolicy::ensurePassiveWaiting(char **argv)
{
    if (std::getenv("CONVSCOPE_REEXECUTED"))
        return;
    bool changed = false;
    if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) {
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        changed = true;
    }
    if (!std::getenv("OPENBLAS_THREAD_TIMEOUT")) {
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
        changed = true;
    }
    if (!changed)
        return;
    setenv("CONVSCOPE_REEXECUTED", "1", 1);
    execv("/proc/self/exe", argv);
    // execv only returns on failure: carry on with the policy libgomp already read.
}

int RuntimePolicy::init(char **argv)
{
    ensurePassiveWaiting(argv);
    // A file-size limit (ulimit -f) makes writes fail with EFBIG, reported like a full disk, instead of killing
    // the process mid-write.
    std::signal(SIGXFSZ, SIG_IGN);
    applyAllocator();
    return applyThreads();
}

void RuntimePolicy::applyAllocator()
{
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1); // never trims by itself (mallopt(3)); releaseFreedMemory() does, at the end of a job
}

void RuntimePolicy::ensureRuntimeDir()
{
    if (std::getenv("XDG_RUNTIME_DIR"))
        return;
    const std::string dir = "/tmp/convscope-runtime-" + std::to_string(getuid());
    mkdir(dir.c_str(), 0700);
    setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
}

void RuntimePolicy::releaseFreedMemory()
{
    malloc_trim(0);
}

int RuntimePolicy::cores()
{
    unsigned n = std::thread::hardware_concurrency();
    return n ? static_cast<int>(n) : 1;
}

int RuntimePolicy::applyThreads(int threads)
{
    if (threads <= 0) {
        if (const char *env = std::getenv("CONVSCOPE_THREADS"))
            threads = std::atoi(env);
    }
    if (threads <= 0)
        threads = cores();
    torch::set_num_threads(threads);
    return torch::get_num_threads();
}

} // namespace convscope
