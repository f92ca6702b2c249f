#!/usr/bin/env bash
# Installs what mpshare needs to build, test and benchmark, from Debian's
# packages. Idempotent: installs only what is missing.
set -euo pipefail
packages=(g++ clang libclang-rt-dev cmake make libasio-dev libcereal-dev libboost-dev catch2 libssl-dev libcli11-dev openssl python3 chromium redis-server)
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
