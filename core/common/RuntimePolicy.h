#pragma once
// How Convscope uses the CPU cores and memory. Call RuntimePolicy::init(argv) first thing in every main().
//
// Threads: LibTorch (Debian) runs intra-op work on OpenMP threads. With OpenMP's default ACTIVE waiting, idle
// workers spin, and a single competing process (a compiler, a second app) can make inference dozens of times slower
// on a 2-core laptop. libgomp reads OMP_WAIT_POLICY when it is loaded, before main(), so `ensurePassiveWaiting`
// re-executes the program once with OMP_WAIT_POLICY=PASSIVE unless the user set a policy explicitly. OpenBLAS (the
// fully connected layers and some convolutions) keeps its own threads, which spin in sched_yield for 2^28 cycles after
// each call: on MobileNetV3-small that was a quarter of all CPU samples, taken from the forward pass and the decode
// threads. The same restart sets OPENBLAS_THREAD_TIMEOUT=4 (they sleep almost at once) unless the user set it.
// `applyThreads` then gives LibTorch all cores (Debian's build defaults to one intra-op thread here).
//
// Memory: activations of a batch are tens of MB each. glibc serves such blocks with fresh mmap()s and returns them
// on free, so every forward pass page-faults its whole working set again; when the probe keeps every layer's output
// alive this cost 25% at batch 32 (tests/bench/ProbeOverheadBench). `applyAllocator` keeps freed memory in the heap
// for reuse instead (peak memory stays reserved while the process runs).
namespace convscope {

class RuntimePolicy {
public:
    /// ensurePassiveWaiting + applyAllocator + applyThreads, and SIGXFSZ ignored (a file-size limit then reads as
    /// a full disk). Returns the intra-op thread count.
    static int init(char **argv);

    /// If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets OMP_WAIT_POLICY=PASSIVE, and if
    /// OPENBLAS_THREAD_TIMEOUT is not set, sets it to 4; when either changed, execv()s /proc/self/exe with the same
    /// arguments. Returns normally when no restart is needed or the restart failed (then runs as is).
    static void ensurePassiveWaiting(char **argv);

    /// Large blocks come from the heap and stay there after free (mallopt M_MMAP_MAX=0, no trimming).
    static void applyAllocator();
    /// Returns the heap's free pages to the system (malloc_trim): for the end of a long job, so memory the job freed
    /// (a deep model's scan keeps gigabytes for reuse while it runs) does not stay with the process.
    static void releaseFreedMemory();

    /// Sets LibTorch's intra-op thread count: `threads` if > 0, else $CONVSCOPE_THREADS if set, else all cores.
    /// Returns the count in effect.
    static int applyThreads(int threads = 0);

    /// Sets XDG_RUNTIME_DIR to a private /tmp folder when unset (headless runs), so Qt does not warn about it.
    static void ensureRuntimeDir();

    /// Number of online CPU cores.
    static int cores();
};

} // namespace convscope
