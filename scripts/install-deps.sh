#!/usr/bin/env bash
# Installs what building and testing procxy needs, from Debian's packages
# (Debian 12 "bookworm"). Runs apt-get through sudo when not root.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  clang-14 libclang-14-dev libclang-common-14-dev libclang-rt-14-dev
  libcapnp-dev capnproto
  catch2 libkainjow-mustache-dev libbenchmark-dev
  libbackward-cpp-dev libdw-dev libseccomp-dev
  openssh-client openssh-server
  slurm-wlm munge
)
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
