#pragma once
// How Convscope uses the CPU cores.
//
// LibTorch (Debian) runs intra-op work on OpenMP threads. With OpenMP's default ACTIVE waiting, idle workers spin,
// and a single competing process (a compiler, a second app) can make inference dozens of times slower on a 2-core
// laptop. libgomp reads OMP_WAIT_POLICY when it is loaded, before main(), so `ensurePassiveWaiting` re-executes the
// program once with OMP_WAIT_POLICY=PASSIVE unless the user set a policy explicitly. `apply` then gives LibTorch all
// cores (Debian's build defaults to one intra-op thread here).
namespace convscope {

class ThreadPolicy {
public:
    /// Call first in main(). If OMP_WAIT_POLICY is unset, sets it to PASSIVE and execv()s /proc/self/exe with the
    /// same arguments; returns normally when no restart is needed or the restart failed (then runs as is).
    static void ensurePassiveWaiting(char **argv);

    /// Sets LibTorch's intra-op thread count: `threads` if > 0, else $CONVSCOPE_THREADS if set, else all cores.
    /// Returns the count in effect.
    static int apply(int threads = 0);

    /// Number of online CPU cores.
    static int cores();
};

} // namespace convscope
