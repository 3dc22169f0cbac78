#!/usr/bin/env bash
# Checks a Convscope Debian package made by packaging/build-deb.sh, on a Debian machine with the runtime libraries
# installed (the libraries ldd resolves are those of this system):
#
#   bash packaging/check-deb.sh convscope_VERSION_ARCH.deb
#
# - every library the binary loads (ldd, transitively) belongs to a Debian package that is declared in Depends or
#   reached from Depends through Depends relations (or that provides a virtual package reached so, as
#   libopenblas0-pthread provides libblas.so.3); a library no package owns (/usr/local, pyenv, a build tree) fails;
# - the package of every dlopened Qt plugin (packaging/deb-plugins.list) is declared in Depends, and the plugin's own
#   libraries are covered as above;
# - every declared Depends/Recommends is known to apt; Recommends names the demo dataset and OpenBLAS;
# - the binary is stripped and has no RPATH/RUNPATH; Version is the project's (CMakeLists.txt);
# - the menu entry, the icon, the demo model, the manual page (a section per command), README, copyright and
#   changelog are in the package; the demo's dataset is a Recommends;
# - the packaged binary runs: `convscope --help` prints the usage, `convscope info` reads the packaged demo model.
# Prints every problem and exits 1 when there is any.
set -euo pipefail

if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 PACKAGE.deb" >&2
  exit 2
fi
deb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
dpkg-deb -x "$deb" "$root"
binary="$root/usr/bin/convscope"

problems=()
problem() { problems+=("$*"); }
field() { dpkg-deb -f "$deb" "$1"; }
# The package names of a Depends-style value, one a line (versions, architectures and alternatives dropped).
package_names() { tr ',|' '\n' <<< "$1" | sed -e 's/(.*//' -e 's/:.*//' -e 's/[[:space:]]//g' -e '/^$/d'; }

depends=$(field Depends)
recommends=$(field Recommends)
declared=$(package_names "$depends" | sort -u)
recommended=$(package_names "$recommends" | sort -u)
mapfile -t declared_list <<< "$declared"
mapfile -t recommended_list <<< "$recommended"

# --- Version, Recommends -----------------------------------------------------------------------------------------
project_version=$(sed -n 's/^project(.*VERSION \([0-9][0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt" | head -n1)
[ "$(field Version)" = "$project_version" ] ||
  problem "Version is '$(field Version)', the project's (CMakeLists.txt) is '$project_version'"
for wanted in dataset-fashion-mnist libopenblas0; do
  grep -qxF "$wanted" <<< "$recommended" || problem "Recommends lacks $wanted"
done

# --- Files ---------------------------------------------------------------------------------------------------------
for f in usr/bin/convscope usr/share/applications/convscope.desktop \
         usr/share/icons/hicolor/scalable/apps/convscope.svg \
         usr/share/convscope/demo/fashion_cnn.pt usr/share/convscope/demo/fashion_cnn.json \
         usr/share/man/man1/convscope.1.gz usr/share/doc/convscope/copyright usr/share/doc/convscope/README.md \
         usr/share/doc/convscope/changelog.Debian.gz; do
  [ -f "$root/$f" ] || problem "missing file /$f"
done
# The manual page describes every command the binary has (each command's own help is in it).
manpage="$root/usr/share/man/man1/convscope.1.gz"
if [ -f "$manpage" ]; then
  # (Unpacked first, not piped into grep -q: pipefail would see zcat's SIGPIPE.)
  zcat "$manpage" > "$work/convscope.1" || problem "the manual page is not a readable gzip file"
  for command in scan top map search input-spec; do
    grep -qx "\.SS $command" "$work/convscope.1" || problem "the manual page has no section for '$command'"
  done
  if command -v groff > /dev/null; then
    groff -man -Tutf8 -ww -z "$work/convscope.1" 2> "$work/groff.txt" ||
      problem "groff cannot format the manual page: $(head -c 300 "$work/groff.txt")"
    [ ! -s "$work/groff.txt" ] || problem "groff warns about the manual page: $(head -c 300 "$work/groff.txt")"
  fi
fi
desktop="$root/usr/share/applications/convscope.desktop"
if [ -f "$desktop" ]; then
  grep -qE '^Exec=convscope( |$)' "$desktop" || problem "the menu entry does not run convscope (Exec=)"
  grep -qx 'Icon=convscope' "$desktop" || problem "the menu entry's Icon= is not convscope"
  if command -v desktop-file-validate > /dev/null; then
    desktop-file-validate "$desktop" > "$work/desktop.txt" 2>&1 ||
      problem "desktop-file-validate: $(tr '\n' ' ' < "$work/desktop.txt")"
  fi
fi
# The demo opens the dataset its sidecar names: the package owning that dataset must be recommended.
demo_json="$root/usr/share/convscope/demo/fashion_cnn.json"
if [ -f "$demo_json" ]; then
  dataset=$(sed -n 's/^ *"dataset": *"\([^"]*\)".*/\1/p' "$demo_json" | head -n1)
  if [ -n "$dataset" ]; then
    dataset_owner=$(dpkg -S "$dataset" 2>/dev/null | sed -n '1s/:.*//p') || true
    if [ -z "$dataset_owner" ]; then
      problem "the demo's dataset $dataset is not installed here (package dataset-fashion-mnist?)"
    elif ! grep -qxF "$dataset_owner" <<< "$recommended"; then
      problem "the demo's dataset comes from $dataset_owner, which Recommends does not name"
    fi
  fi
fi

# --- Stripped, no RPATH --------------------------------------------------------------------------------------------
if [ -f "$binary" ]; then
  file_says=$(file -b "$binary")
  sections=$(readelf -S -W "$binary")
  dynamic=$(readelf -d "$binary")
  grep -q ', stripped' <<< "$file_says" || problem "the binary is not stripped (file: $file_says)"
  if grep -q '\.debug_info' <<< "$sections"; then problem "the binary still has a .debug_info section"; fi
  if grep -qE '\((RPATH|RUNPATH)\)' <<< "$dynamic"; then
    problem "the binary has an RPATH/RUNPATH: $(grep -E '\((RPATH|RUNPATH)\)' <<< "$dynamic" | sed 's/.*: //')"
  fi
fi

# --- The closure of the declared Depends, computed once ------------------------------------------------------------
# Every package apt reaches from Depends through Depends/PreDepends relations (virtual packages print as <name>).
declare -A in_closure=()
while read -r name; do
  in_closure[$name]=1
done < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
           --no-enhances "${declared_list[@]}" 2> /dev/null | grep -v '^ ' | tr -d '<>')
# A name apt does not know never shows up as a top-level line: `apt install` on this release could not resolve it.
for name in $declared; do
  [ -n "${in_closure[$name]:-}" ] || problem "Depends names $name, which apt does not know"
done
known_recommends=$(apt-cache depends "${recommended_list[@]}" 2> /dev/null | grep -v '^ ' | tr -d '<>')
# Recommended packages are usually not installed: apt knows them only from its package lists, which a machine that
# never ran `apt-get update` (a trimmed container) lacks. There the check is skipped, with a warning.
if compgen -G "/var/lib/apt/lists/*Packages*" > /dev/null; then
  for name in $recommended; do
    grep -qxF "$name" <<< "$known_recommends" || problem "Recommends names $name, which apt does not know"
  done
else
  echo "check-deb: warning: apt has no package lists here (run apt-get update); Recommends not checked" >&2
fi

# covered PKG: PKG is in the closure, or provides a virtual package that is (libopenblas0-pthread provides the
# libblas.so.3 of "libblas3 | libblas.so.3", and update-alternatives points libblas.so.3 at it).
covered() {
  [ -n "${in_closure[$1]:-}" ] && return 0
  local p
  for p in $(package_names "$(dpkg-query -W -f='${Provides}' "$1" 2> /dev/null)"); do
    [ -n "${in_closure[$p]:-}" ] && return 0
  done
  return 1
}

# --- The libraries the binary and the plugins load ---------------------------------------------------------------
plugin_dir=$(qtpaths6 --query QT_INSTALL_PLUGINS 2> /dev/null ||
             echo "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/qt6/plugins")
plugins=()
while read -r plugin; do
  if [ -f "$plugin_dir/$plugin" ]; then
    plugins+=("$plugin_dir/$plugin")
  else
    problem "Qt plugin $plugin_dir/$plugin is not installed here, so its package cannot be checked"
  fi
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/deb-plugins.list" | awk '{print $1}')

# "LOADER<TAB>LIBRARY" lines: each "libx.so => /path (addr)" line of ldd, and the loader's own
# "/lib64/ld-linux-x86-64.so.2 (addr)" line.
: > "$work/loads.txt"
for file in "$binary" "${plugins[@]}"; do
  [ -f "$file" ] || continue
  label=$([ "$file" = "$binary" ] && echo "the binary" || echo "Qt plugin ${file#"$plugin_dir"/}")
  if ! ldd "$file" > "$work/ldd.txt" 2>&1; then
    problem "ldd fails on $label: $(head -n3 "$work/ldd.txt" | tr '\n' ' ')"
    continue
  fi
  while read -r lib; do
    problem "$label needs $lib, which is not found on this system"
  done < <(awk '/not found/ {print $1}' "$work/ldd.txt")
  awk -v label="$label" '$2 == "=>" && $3 ~ /^\// {print label "\t" $3} $1 ~ /^\// {print label "\t" $1}' \
    "$work/ldd.txt" | sort -u >> "$work/loads.txt"
done

# Owners, asked of dpkg in one go. A library is looked up by the path ldd printed, by its real path (alternatives
# such as libblas.so.3 are symlinks no package owns) and by both with and without /usr (merged /usr: dpkg knows
# /lib/x86_64-linux-gnu/libc.so.6 while ldd may print /usr/lib/...).
candidates() { local real; real=$(readlink -f "$1"); printf '%s\n' "$1" "$real" "${1#/usr}" "/usr$1" "${real#/usr}" "/usr$real"; }
declare -A owner_of=()
mapfile -t lookups < <(cut -f2 "$work/loads.txt" | sort -u | while read -r lib; do candidates "$lib"; done | sort -u)
while IFS= read -r line; do
  # "pkg:arch[, pkg2:arch]: /path"; diversion notices are skipped.
  case "$line" in diversion\ *) continue ;; esac
  pkg=${line%%: /*}
  pkg=${pkg%%,*}
  owner_of[${line#*: }]=${pkg%%:*}
done < <(dpkg -S "${lookups[@]}" 2> /dev/null || true)

declare -A reported=()
while IFS=$'\t' read -r label lib; do
  pkg=""
  for c in $(candidates "$lib"); do
    if [ -n "${owner_of[$c]:-}" ]; then pkg=${owner_of[$c]}; break; fi
  done
  if [ -z "$pkg" ]; then
    problem "$label loads $lib, which no Debian package owns (a library from /usr/local, pyenv or a build tree?)"
  elif ! covered "$pkg"; then
    [ -n "${reported[$pkg]:-}" ] || problem "$label loads $lib from package $pkg, which Depends does not cover"
    reported[$pkg]=1
  fi
done < "$work/loads.txt"
echo "check-deb: the binary loads $(grep -c '^the binary' "$work/loads.txt") libraries; with the plugins," \
     "$(cut -f2 "$work/loads.txt" | sort -u | wc -l) libraries in all" >&2

# The plugins' own packages must be declared: nothing else pulls them in.
for path in "${plugins[@]}"; do
  pkg=$(dpkg -S "$path" 2> /dev/null | sed -n '1s/:.*//p') || true
  if [ -z "$pkg" ]; then
    problem "Qt plugin $path is owned by no Debian package"
  elif ! grep -qxF "$pkg" <<< "$declared"; then
    problem "Qt plugin ${path#"$plugin_dir"/} is loaded at run time from package $pkg, which Depends does not declare"
  fi
done

# --- apt can resolve the package here (a simulation: nothing is installed or downloaded) ---------------------------
if ! apt-get install -s -q --no-install-recommends "$deb" > "$work/apt.txt" 2>&1; then
  problem "apt-get install -s cannot install the package: $(grep -E '^(E:| )' "$work/apt.txt" | head -n8 | tr '\n' ' ')"
fi

# --- The packaged binary runs ----------------------------------------------------------------------------------------
if [ -x "$binary" ]; then
  if QT_QPA_PLATFORM=offscreen timeout 120 "$binary" --help > "$work/help.txt" 2>&1; then
    grep -qi 'usage' "$work/help.txt" || problem "convscope --help does not print the usage: $(head -n3 "$work/help.txt")"
  else
    problem "convscope --help exits $?: $(head -n5 "$work/help.txt" | tr '\n' ' ')"
  fi
  demo_model="$root/usr/share/convscope/demo/fashion_cnn.pt"
  if [ -f "$demo_model" ] &&
     ! QT_QPA_PLATFORM=offscreen timeout 300 "$binary" info "$demo_model" > "$work/info.txt" 2>&1; then
    problem "convscope info on the packaged demo model fails: $(tail -n5 "$work/info.txt" | tr '\n' ' ')"
  fi
fi

# --- Report --------------------------------------------------------------------------------------------------------
binary_size=$([ -f "$binary" ] && du -h "$binary" | cut -f1 || echo "?")
echo "check-deb: $(basename "$deb"): $(du -h "$deb" | cut -f1), binary $binary_size" >&2
echo "check-deb: Depends: $depends" >&2
echo "check-deb: Recommends: $recommends" >&2
if [ "${#problems[@]}" -gt 0 ]; then
  echo "check-deb: ${#problems[@]} problem(s):" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "check-deb: OK" >&2
