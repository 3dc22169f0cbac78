#!/usr/bin/env bash
# Writes convscope(1) in roff from the program's own help: the overview (`convscope --help`) and every command's
# `convscope COMMAND --help`, so the manual page says what the binary it ships with does. Non-ASCII characters (×,
# —, …) become groff's \[uXXXX] escapes (preconv, groff-base), so the page formats without warnings anywhere.
#
#   bash packaging/make-manpage.sh BINARY VERSION > convscope.1
set -euo pipefail
if [ "$#" -ne 2 ]; then
  echo "usage: $0 BINARY VERSION" >&2
  exit 2
fi
binary=$1
version=$2
# roff: backslashes escaped, and a line that starts with . or ' would be a request.
escape() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
overview=$("$binary" --help)
commands=$(sed -n '/^commands:/,/^$/p' <<< "$overview" | awk 'NR > 1 && NF > 0 {print $1}')
[ -n "$commands" ] || { echo "make-manpage: no commands in '$binary --help'" >&2; exit 1; }

{
cat <<EOF_HEAD
.TH CONVSCOPE 1 "$(date -u +%Y-%m-%d)" "convscope $version" "User Commands"
.SH NAME
convscope \- see what a trained convolutional network has learned
.SH SYNOPSIS
.B convscope
.RI [ MODEL " [" DATASET ]]
.br
.B convscope
.I COMMAND
.RI [ options ]
.SH DESCRIPTION
Without a command, \fBconvscope\fR opens the app on \fIMODEL\fR (TorchScript or ONNX) and \fIDATASET\fR (a folder
of images, class subfolders as labels, or Fashion-MNIST-style IDX files), on the last session, or on the bundled demo
(\fI/usr/share/convscope/demo\fR, with the Fashion-MNIST test set when the \fBdataset-fashion-mnist\fR package is
installed). It shows the filters of every conv layer, each unit's top dataset patches, reconstructions of what a unit
responds to, saliency, a map of the dataset and similar-image search. Every view has a command below that does the
same work without a window.
.PP
A model may have a sidecar \fIMODEL.json\fR that says how it takes its input (size, resize, mean and std, channel
order) and names its classes and layers; \fBconvscope input-spec\fR shows and writes it.
.SH OVERVIEW
.nf
$(escape <<< "$overview")
.fi
.SH COMMANDS
EOF_HEAD
for command in $commands; do
  echo ".SS $command"
  echo ".nf"
  "$binary" "$command" --help | escape
  echo ".fi"
done
cat <<'EOF_TAIL'
.SH EXIT STATUS
0 success; 1 partial failure (some images or units could not be done, the rest is written); 2 usage error (an
unknown option, a missing argument, a layer name that matches none); 3 a file missing or unreadable; 4 not a model;
5 a model Convscope cannot use (e.g. it does not take an image); 6 a bad image or dataset.
.SH FILES
.TP
.I /usr/share/convscope/demo
the demo model (a small CNN trained on Fashion-MNIST) and its sidecar
.TP
.I /usr/share/doc/convscope/README.md
the full guide: the app's tabs, every command with examples, the benchmarks
.SH SEE ALSO
The Help menu of the app (Getting Started, Keyboard Shortcuts).
EOF_TAIL
} | preconv -e utf-8 | sed "/^\.lf /d"
