#!/usr/bin/env bash
# Installs the C libraries Xunxing links against (Debian packages), if they are missing.
# Swift itself is expected on PATH (https://www.swift.org/install/linux/).
set -euo pipefail

packages=(libfftw3-dev libcurl4-openssl-dev libcfitsio-dev libssl-dev libsqlite3-dev libpq-dev pkg-config librsvg2-bin)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install Swift 6.1 or later first" >&2; exit 1; }
