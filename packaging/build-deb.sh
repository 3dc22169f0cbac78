#!/usr/bin/env bash
# Builds a Debian package of Convscope from a build folder that is already built.
#
#   bash packaging/build-deb.sh BUILD_DIR OUT_DIR      # prints OUT_DIR/convscope_VERSION_ARCH.deb
#
# - installs the build (cmake --install) into a staging folder under /usr, with the manual page (packaging/
#   make-manpage.sh, from the binary's help), README, copyright and changelog under /usr/share;
# - keeps the debug symbols in OUT_DIR/convscope_VERSION_ARCH.debug, then strips the binary;
# - Depends: what dpkg-shlibdeps computes from the binary's libraries, plus the packages of the Qt plugins the app
#   dlopens (packaging/deb-plugins.list), which no tool can see;
# - Recommends: the demo dataset and OpenBLAS; version from the project (CMakeCache.txt).
# Nothing is downloaded. Needs dpkg-dev (dpkg-shlibdeps), binutils (objcopy, strip), groff-base (preconv) and cmake.
# Progress goes to stderr; the last line on stdout is the package's path. packaging/check-deb.sh checks the result.
set -euo pipefail
umask 022

if [ "$#" -ne 2 ]; then
  echo "usage: $0 BUILD_DIR OUT_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
log() { echo "build-deb: $*" >&2; }

cache="$build/CMakeCache.txt"
[ -f "$cache" ] || { log "$build is not a configured build folder (no CMakeCache.txt)"; exit 1; }
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$cache" | head -n1; }

package=convscope
version=$(cache_value CMAKE_PROJECT_VERSION)
[ -n "$version" ] || { log "no CMAKE_PROJECT_VERSION in $cache"; exit 1; }
arch=$(dpkg --print-architecture)
maintainer=${CONVSCOPE_MAINTAINER:-"Convscope developers <convscope@localhost>"}
deb="$out/${package}_${version}_${arch}.deb"
debug_file="$out/${package}_${version}_${arch}.debug"

work=$(mktemp -d "$out/.build-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The staging folder sits where dpkg-shlibdeps expects a package's files: debian/PACKAGE of a source tree.
stage="$work/src/debian/$package"

# 1. Stage the install rules of CMakeLists.txt under /usr.
log "staging $version ($arch) from $build"
cmake --install "$build" --prefix "$stage/usr" >&2
binary="$stage/usr/bin/$package"
if [ ! -x "$binary" ] || ! readelf -h "$binary" > /dev/null 2>&1; then
  log "usr/bin/$package is missing or not a whole ELF file: build $build first (or wait for its link to end)"
  exit 1
fi

# 1b. The documentation a Debian package carries: the manual page (from the binary's own help), the README, the
#     copyright file and a changelog.
man="$stage/usr/share/man/man1"
doc="$stage/usr/share/doc/$package"
mkdir -p "$man" "$doc"
bash "$here/make-manpage.sh" "$binary" "$version" | gzip -9n > "$man/$package.1.gz"
cp "$here/../README.md" "$doc/README.md"
cp "$here/copyright" "$doc/copyright"
printf '%s (%s) unstable; urgency=medium\n\n  * Built from the Convscope source tree (packaging/build-deb.sh).\n\n -- %s  %s\n' \
  "$package" "$version" "$maintainer" "$(date -R)" | gzip -9n > "$doc/changelog.Debian.gz"
chmod 0644 "$man/$package.1.gz" "$doc"/*

# 2. Separate debug symbols (found by gdb through the build id), then strip as dh_strip does.
objcopy --only-keep-debug --compress-debug-sections=zlib "$binary" "$debug_file"
chmod 0644 "$debug_file"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$binary"
build_id=$(readelf -n "$binary" | sed -n 's/.*Build ID: *//p' | head -n1)
log "debug symbols: $debug_file (install as /usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug for gdb)"

# 3. Depends of the libraries the binary links, from the installed shlibs/symbols files.
#    dpkg-shlibdeps wants a source package around it (a two-paragraph debian/control is enough) and finds the
#    package's root by its DEBIAN folder.
mkdir -p "$stage/DEBIAN"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$package" "$package" > "$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O -e"$binary" | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { log "dpkg-shlibdeps computed no dependencies"; exit 1; }

# 4. The packages of the dlopened Qt plugins, unless dpkg-shlibdeps already named them.
plugin_dir=$(qtpaths6 --query QT_INSTALL_PLUGINS 2>/dev/null ||
             echo "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/qt6/plugins")
# The package names of a Depends value, one a line (versions, architectures and alternatives dropped).
package_names() { tr ',|' '\n' <<< "$1" | sed -e 's/(.*//' -e 's/:.*//' -e 's/[[:space:]]//g' -e '/^$/d'; }
depends="$shlibs"
while read -r plugin; do
  owner=$(dpkg -S "$plugin_dir/$plugin" 2>/dev/null | sed -n '1s/:.*//p') || true
  [ -n "$owner" ] || { log "Qt plugin $plugin_dir/$plugin is not installed by any package"; exit 1; }
  if ! grep -qxF "$owner" <<< "$(package_names "$depends")"; then
    depends="$depends, $owner"
  fi
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/deb-plugins.list" | awk '{print $1}')

# 5. Control file and checksums.
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<EOF
Package: $package
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Recommends: dataset-fashion-mnist, libopenblas0
Section: science
Priority: optional
Description: visualiser of what a convolutional network has learned
 Convscope shows what a trained convolutional network (TorchScript or ONNX)
 has learned: conv filters, activations, top dataset patches per unit,
 deconvnet and guided-backprop reconstructions, saliency and Grad-CAM,
 similar-image search and a t-SNE map of the dataset. A headless CLI
 does the same work in batch.
 .
 The demo model is a small CNN trained on Fashion-MNIST; with the
 dataset-fashion-mnist package installed it opens with its test set.
EOF
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"

# 6. The package.
rm -f "$deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >&2
log "$(du -h "$deb" | cut -f1) package, binary $(du -h "$binary" | cut -f1) stripped"
echo "$deb"
