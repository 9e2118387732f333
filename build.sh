#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# banshi build helper.  Works on a fresh Debian 12 machine; installs only the
# Debian packages that are missing, so a second run is quiet and quick.
#
#   sh build.sh example   install, build, render examples/*.xml to out/*.pdf
#   sh build.sh test      install, build (plain and ASan+UBSan), run ctest,
#                         the batch tests under ThreadSanitizer, then each
#                         libFuzzer target from a fixed seed for a fixed
#                         number of inputs (reproducible)
#   sh build.sh fuzz [S]  build the libFuzzer targets (clang) and run each
#                         for S seconds from a random seed (default 60)
#   sh build.sh deps      install the packages only
set -eu
cd "$(dirname "$0")"
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

# Build and run: compiler, CMake, libxml2, libxslt (report types), ICU,
# libharu, HarfBuzz (font subsetting), libpng and libjpeg (figures are
# decoded and checked before they are embedded), libdeflate (compresses the
# font programs, 2-3x faster than zlib; zlib's inflater finds where the
# blocks of each deflated piece of a program end, pipeline/zpieces.h),
# Nettle (SHA-256 with the processor's SHA extensions), libxxhash (XXH3-128
# of the fonts and other shared inputs for batch's up-to-date key), Jansson
# (archive reads the batch log),
# minizip (writes the OFD package, docs/formats.md), the
# default CJK fonts (Noto CJK, OpenType CFF; the older TrueType fonts as
# fallbacks) and the sRGB ICC profile.
PKGS_RUN="gcc libc6-dev make cmake pkg-config libxml2-dev libxslt1-dev libicu-dev
  libhpdf-dev libharfbuzz-dev libpng-dev libjpeg-dev fonts-noto-cjk fonts-arphic-gbsn00lp
  fonts-arphic-gkai00mp fonts-wqy-zenhei fonts-lxgw-wenkai icc-profiles-free
  libdeflate-dev zlib1g-dev nettle-dev libxxhash-dev libjansson-dev libminizip-dev"
# Tests: Python for the driver, poppler and qpdf to inspect PDFs, Apache
# PDFBox Preflight (Java) for PDF/A-1b, jsonschema to check JSON diagnostics
# against schemas/diagnostics.schema.json; fontTools and xmllint for the OFD
# checker (tests/ofdcheck.py: no OFD validator exists in Debian).
PKGS_TEST="python3 python3-jsonschema poppler-utils qpdf libpdfbox2-java default-jre-headless
  libactivation-java libjaxb-api-java python3-fonttools libxml2-utils"
# Hostile-input tests: strace to see that no file or network is touched,
# valgrind for memory errors and leaks on every path; clang with its
# sanitizer and libFuzzer runtimes for the fuzz targets.
PKGS_HOSTILE="strace valgrind"
PKGS_FUZZ="clang-14 libclang-rt-14-dev"
# Deployment tests: the Debian package is built with dpkg-buildpackage
# (debhelper), the manual pages checked with man (man-db), and the Slurm
# example run on a single-node cluster the test starts (slurm-wlm, munge).
PKGS_DEPLOY="debhelper dpkg-dev man-db slurm-wlm munge"

need() {
  missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "installing:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  log="$ROOT/apt.log"
  # shellcheck disable=SC2086
  { $SUDO apt-get update -qq &&
    $SUDO apt-get install -y -qq --no-install-recommends $missing; } \
    >"$log" 2>&1 || { cat "$log"; exit 1; }
}

# build DIR [cmake options]: configure once, then build; the log is shown
# only when something fails.
build() {
  dir=$1
  shift
  log="$ROOT/$dir.log"
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" -DBANSHI_WERROR=ON "$@" >"$log" 2>&1 ||
      { cat "$log"; exit 1; }
  fi
  cmake --build "$dir" -j "$JOBS" >"$log" 2>&1 || { cat "$log"; exit 1; }
}

# fuzz MODE ARG: build the libFuzzer targets (clang-14, ASan+UBSan) and run
# both at once on a fresh corpus folder seeded with tests/fuzz/corpus and
# every input that once failed (tests/fuzz/regress).  MODE "time" runs each
# for ARG seconds with a random seed (the long runs made before a change to
# parsing, layout or rendering is called done); MODE "runs" runs each for a
# fixed number of inputs ARG from the fixed seed, so that a given commit
# always gives the same result (the test command).  A crash, leak, hang
# (60 s) or failed invariant fails the step; the input is left in
# build-fuzz/artifacts/.
FUZZ_TARGETS="parse layout bag manifest ofd cff zpieces"
TSAN_GROUPS="batch batch_shard batch_previous determinism"
fuzz() {
  mode=$1
  arg=$2
  build build-fuzz -DCMAKE_C_COMPILER=clang-14 -DBANSHI_FUZZ=ON
  mkdir -p build-fuzz/artifacts
  # The targets' scratch files in memory where there is a tmpfs: fuzz_bag
  # makes and removes files for every input, which is slow on some disks.
  scratch=${TMPDIR:-/tmp}
  [ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm
  # A seeded run repeats itself only without address-space randomisation:
  # libFuzzer learns from compared values, and some are addresses.
  # setarch -R where the kernel allows it (some containers do not).
  norand=""
  if [ "$mode" = runs ] && setarch "$(uname -m)" -R true 2>/dev/null; then
    norand="setarch $(uname -m) -R"
  fi
  pids=""
  for t in $FUZZ_TARGETS; do
    # absolute paths: the targets work in a scratch folder of their own
    corpus="$ROOT/build-fuzz/corpus/$t"
    rm -rf "$corpus"
    mkdir -p "$corpus"
    if [ "$mode" = runs ]; then
      # parse is ~25 times faster than layout: the same wall time for both
      runs=$arg
      [ "$t" = parse ] && runs=$((arg * 25))
      # cff cuts a font program of a few KB: as fast as parse
      [ "$t" = cff ] && runs=$((arg * 25))
      # zpieces deflates and inflates up to 20 KB: about a fifth of cff
      [ "$t" = zpieces ] && runs=$((arg * 5))
      # ofd runs layout's documents through the OFD writer: a quarter
      [ "$t" = ofd ] && runs=$((arg / 4))
      limit="-seed=1 -runs=$runs -reload=0"
    else
      limit="-max_total_time=$arg"
    fi
    # each target's dictionary, else the XML one
    dict="$ROOT/tests/fuzz/$t.dict"
    [ -f "$dict" ] || dict="$ROOT/tests/fuzz/xml.dict"
    # shellcheck disable=SC2086
    TMPDIR=$scratch BANSHI_DATA="$ROOT" $norand ./build-fuzz/tests/fuzz_$t \
      -dict="$dict" $limit -timeout=60 -rss_limit_mb=2048 \
      -artifact_prefix="$ROOT/build-fuzz/artifacts/$t-" -print_final_stats=1 \
      "$corpus" "$ROOT/tests/fuzz/corpus/$t" "$ROOT/tests/fuzz/regress/$t" \
      >"build-fuzz/fuzz-$t.log" 2>&1 &
    pids="$pids $!"
  done
  status=0
  for p in $pids; do
    wait "$p" || status=1
  done
  for t in $FUZZ_TARGETS; do
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' \
      "build-fuzz/fuzz-$t.log")
    s=$(sed -n 's/^stat::average_exec_per_sec: *//p' "build-fuzz/fuzz-$t.log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "build-fuzz/fuzz-$t.log" | tail -n 1)
    echo "fuzz_$t ($mode $arg): ${n:-?} inputs, ${s:-?}/s, $cov"
  done
  if [ $status -ne 0 ]; then
    for t in $FUZZ_TARGETS; do
      grep -q -E "ERROR|invariant failed|Test unit written" \
        "build-fuzz/fuzz-$t.log" && tail -n 60 "build-fuzz/fuzz-$t.log"
    done
    ls build-fuzz/artifacts
    exit 1
  fi
}

case "${1:-}" in
deps)
  need $PKGS_RUN $PKGS_TEST $PKGS_HOSTILE $PKGS_FUZZ $PKGS_DEPLOY
  ;;
fuzz)
  need $PKGS_RUN $PKGS_FUZZ
  fuzz time "${2:-60}"
  ;;
example)
  need $PKGS_RUN
  build build
  mkdir -p out
  status=0
  for src in examples/*.xml; do
    pdf="out/$(basename "$src" .xml).pdf"
    if ./build/banshi render "$src" -o "$pdf"; then
      echo "$ROOT/$pdf"
    else
      status=1
    fi
  done
  exit $status
  ;;
test)
  need $PKGS_RUN $PKGS_TEST $PKGS_HOSTILE $PKGS_FUZZ $PKGS_DEPLOY
  build build
  build build-asan -DBANSHI_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  for dir in build build-asan; do
    (cd "$dir" && ctest -j "$JOBS" --output-on-failure --timeout 600 \
      >"$ROOT/$dir.test.log" 2>&1) || { cat "$ROOT/$dir.test.log"; exit 1; }
    tail -n 3 "$ROOT/$dir.test.log" | head -n 1 | sed "s|^|$dir: |"
    # a test that cannot run here says why (tests/run.py, exit 77)
    grep -h "^skipped: " "$dir/Testing/Temporary/LastTest.log" |
      sed "s|^|$dir: |" || true
  done
  # ThreadSanitizer: the batch tests, whose workers share fonts, template
  # and report types (the program only: no unit tests or fuzz drivers).
  build build-tsan -DBANSHI_TSAN=ON -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=OFF
  for g in $TSAN_GROUPS; do
    BANSHI_DATA="$ROOT" TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
      python3 tests/run.py --banshi "$ROOT/build-tsan/banshi" \
      --work "$ROOT/build-tsan/work" "$g" >"$ROOT/build-tsan.$g.log" 2>&1 ||
      { tail -n 60 "$ROOT/build-tsan.$g.log"; exit 1; }
  done
  echo "build-tsan: batch groups clean under ThreadSanitizer ($TSAN_GROUPS)"
  # A fixed seed and number of inputs: the same commit gives the same
  # result on every run.  BANSHI_FUZZ_RUNS=0 skips the step.
  [ "${BANSHI_FUZZ_RUNS:-2000}" -eq 0 ] || fuzz runs "${BANSHI_FUZZ_RUNS:-2000}"
  ;;
*)
  echo "usage: sh build.sh example|test|fuzz [SECONDS]|deps" >&2
  exit 2
  ;;
esac
