#!/usr/bin/env bash
# Installs the Debian 12 packages leadrouter needs to build, test and run the demo.
# Idempotent: when every package is already installed it returns without touching apt.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  librdkafka-dev libhiredis-dev prometheus-cpp-dev libcpp-httplib-dev libyaml-cpp-dev libssl-dev openssl libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libspdlog-dev
  libre2-dev tzdata clang libclang-rt-14-dev
  libphonenumber-dev libpsl-dev publicsuffix libidn2-dev libicu-dev libjemalloc-dev libzstd-dev libsimdjson-dev
  redis-server redis-tools kcat apache2-utils clang-format
  python3-yaml prometheus chromium
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# redis-server's package starts a system instance on :6379; leadrouter's scripts start their
# own on free ports, so the packaged one is left as the distribution configured it.
