#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# banshi's benchmark against Apache FOP, WeasyPrint, LibreOffice and Typst,
# and of how banshi's cost grows.  One command from a clean checkout:
#
#   sh bench/run.sh [--quick] [--only fop,typst] [--no-scaling] [--no-profile]
#
# Installs what is missing (Debian packages, Typst from npm), builds banshi
# (release flags, in bench/work/build) and writes bench/RESULTS.md.  A full
# run takes about 10 minutes on 2 cores; --quick about 2.  Not part of CI.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
W=$ROOT/bench/work
mkdir -p "$W"

# banshi's own build and test dependencies (Preflight is among them)
sh build.sh deps

# The peers from Debian, the timing tools, valgrind for the profile.
# fop + a JDK (javac builds the FOP batch driver); weasyprint; the smallest
# LibreOffice that converts .fodt headless; node/npm for Typst.
PKGS="fop default-jdk-headless weasyprint libreoffice-writer-nogui
  hyperfine time valgrind poppler-utils"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
# a Node.js from elsewhere may already bring its own npm
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  echo "bench: installing:$missing" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing \
    >"$W/apt.log" 2>&1 || { cat "$W/apt.log"; exit 1; }
fi

# Typst 0.14 through npm (prebuilt Node addon); the bench goes on without
# it if npm cannot install it.
if [ ! -d "$W/typst/node_modules/@myriaddreamin/typst-ts-node-compiler" ]; then
  mkdir -p "$W/typst"
  cp bench/peers/typst/package.json "$W/typst/"
  (cd "$W/typst" && npm install --no-audit --no-fund --silent >"$W/npm.log" 2>&1) ||
    echo "bench: npm could not install Typst (see $W/npm.log); going on without it" >&2
fi

# banshi with the flags of a release build
B=$W/build
if [ ! -f "$B/CMakeCache.txt" ]; then
  cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >"$W/cmake.log" 2>&1 ||
    { cat "$W/cmake.log"; exit 1; }
fi
cmake --build "$B" -j "$(nproc)" --target banshi >"$W/build.log" 2>&1 ||
  { cat "$W/build.log"; exit 1; }
# the in-process batch through the job API alone (bench/jobs.c), beside
# `banshi batch`; compiler and linker flags of the dependencies as CMake
# found them
flags() { sed -n "s/^DEPS_$1:INTERNAL=//p" "$B/CMakeCache.txt" | tr ';' ' '; }
JOBS_ARG=""
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$B/CMakeCache.txt")
# shellcheck disable=SC2046
if cc -O2 -std=c11 -D_GNU_SOURCE -DBANSHI_VERSION="\"$VERSION\"" -Ipipeline \
  $(flags CFLAGS) bench/jobs.c \
  "$B/libbanshi_core.a" $(flags LDFLAGS) -lhpdf -lpthread -lm \
  -o "$W/jobs" 2>"$W/jobs.log"; then
  JOBS_ARG="--jobs-bin $W/jobs"
else
  echo "bench: bench/jobs.c does not build (see $W/jobs.log); batch" \
    "figures from fresh processes or 'banshi batch' only" >&2
fi

# shellcheck disable=SC2086
exec python3 bench/bench.py --banshi "$B/banshi" $JOBS_ARG "$@"
