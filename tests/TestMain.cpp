// Catch2 main for every Convscope test binary: the same thread policy as the app (passive OpenMP waiting, all cores).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "ThreadPolicy.h"

int main(int argc, char **argv)
{
    convscope::ThreadPolicy::ensurePassiveWaiting(argv);
    convscope::ThreadPolicy::apply();
    return Catch::Session().run(argc, argv);
}
