#pragma once
// Include this instead of <catch2/catch.hpp> in tests. LibTorch pulls in glog, whose CHECK macro (abort on failure,
// never counted) would replace Catch's CHECK if glog came second; loading LibTorch first makes Catch's win for good.
#include <torch/script.h>

#include <catch2/catch.hpp>
