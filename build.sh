#!/bin/sh
# banshi build helper.  Works on a fresh Debian 12 machine; installs only the
# Debian packages that are missing, so a second run is quiet and quick.
#
#   sh build.sh example   install, build, render examples/*.xml to out/*.pdf
#   sh build.sh test      install, build (plain and ASan+UBSan), run ctest
#   sh build.sh deps      install the packages only
set -eu
cd "$(dirname "$0")"
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

# Build and run: compiler, CMake, libxml2, libxslt (report types), ICU,
# libharu, HarfBuzz (font subsetting), libpng and libjpeg (figures are
# decoded and checked before they are embedded), libdeflate (compresses the
# font programs, 2-3x faster than zlib), the default CJK fonts and the sRGB
# ICC profile.
PKGS_RUN="gcc libc6-dev make cmake pkg-config libxml2-dev libxslt1-dev libicu-dev
  libhpdf-dev libharfbuzz-dev libpng-dev libjpeg-dev fonts-arphic-gbsn00lp
  fonts-arphic-gkai00mp fonts-wqy-zenhei fonts-lxgw-wenkai icc-profiles-free
  libdeflate-dev"
# Tests: Python for the driver, poppler and qpdf to inspect PDFs, Apache
# PDFBox Preflight (Java) for PDF/A-1b.
PKGS_TEST="python3 poppler-utils qpdf libpdfbox2-java default-jre-headless
  libactivation-java libjaxb-api-java"

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

case "${1:-}" in
deps)
  need $PKGS_RUN $PKGS_TEST
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
  need $PKGS_RUN $PKGS_TEST
  build build
  build build-asan -DBANSHI_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  for dir in build build-asan; do
    (cd "$dir" && ctest -j "$JOBS" --output-on-failure --timeout 600 \
      >"$ROOT/$dir.test.log" 2>&1) || { cat "$ROOT/$dir.test.log"; exit 1; }
    tail -n 3 "$ROOT/$dir.test.log" | head -n 1 | sed "s|^|$dir: |"
  done
  ;;
*)
  echo "usage: sh build.sh example|test|deps" >&2
  exit 2
  ;;
esac
