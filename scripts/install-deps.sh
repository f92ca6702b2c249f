#!/usr/bin/env bash
# Installs what mpshare needs to build and test, from Debian's packages.
# With --bench, also what bench/compare compares against (redis-server and
# redis-benchmark); the tests never need it. Idempotent: installs only what
# is missing.
set -euo pipefail
packages=(g++ clang libclang-rt-dev cmake make pkg-config libasio-dev libcereal-dev libboost-dev catch2 libssl-dev libcli11-dev openssl python3 chromium)
bench_packages=(redis-server)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=("${bench_packages[@]}") ;;
    *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
