#!/usr/bin/env bash
# Installs every Debian bookworm package Convscope needs to build, run and test.
# Idempotent: packages already present are skipped by apt. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # Qt 6 (Charts needs the OpenGL dev package to be found by CMake)
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev libqt6opengl6-dev qt6-svg-dev
  libqt6sql6-sqlite qt6-qpa-plugins libgl-dev
  # engine
  libtorch-dev libopencv-dev zlib1g-dev
  # JPEG decoding straight through libjpeg-turbo (the library OpenCV decodes with, without its overhead)
  libjpeg62-turbo-dev
  # ONNX models: the protobuf parser, shape inference (libonnx), and the backend conformance cases for the tests
  libonnx-dev libprotobuf-dev libonnx-testdata python3-onnx
  # scans over several processes and machines (scan --mpi; optional at build time)
  libopenmpi-dev openmpi-bin
  # fast BLAS for fully connected layers (switches libblas.so.3 via alternatives)
  libopenblas0-pthread
  # similar-image search: FAISS (HNSW, IVF-PQ; static library with its BLAS/LAPACK dev links)
  libfaiss-dev libblas-dev liblapack-dev
  # dataset map: FFT for interpolated t-SNE repulsion
  libfftw3-dev
  # tests and fixtures
  catch2 python3-torch python3-torchvision python3-numpy python3-pil
  # fuzzing (packaging/run-fuzzers.sh): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # real photos for tests (a flat folder of sample images)
  python3-skimage
  # map benchmark baselines (scikit-learn TSNE, umap-learn)
  python3-sklearn umap-learn
  # fonts for text in exported images (offscreen rendering)
  fonts-dejavu-core fontconfig
  # data: the demo dataset
  dataset-fashion-mnist
  # GUI screenshots under a virtual display
  xvfb xauth
  # the Debian package (packaging/build-deb.sh, check-deb.sh): dpkg-shlibdeps, objcopy/strip/readelf, file; preconv
  # and groff for the manual page
  dpkg-dev binutils file groff-base
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "convscope setup: installing ${#missing[@]} package(s): ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "convscope setup: all packages present"
fi
