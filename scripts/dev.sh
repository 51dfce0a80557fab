#!/usr/bin/env bash
# The README's Quickstart and CI in one place: installs what a fresh Debian machine lacks to
# build streamz, then runs an example or the test suite.
#
#   scripts/dev.sh example [NAME] [ARGS...]   run an example application (word_count by default)
#   scripts/dev.sh test [ARGS...]             run every test, real-broker tests included
#                                             (ARGS go to `cargo test --workspace`)
#   scripts/dev.sh deps [PACKAGE...]          only install what is missing (and PACKAGEs)
#
# Installs with apt-get only what is missing (as root, or with sudo), and does nothing when
# everything is there; with neither root nor sudo it names the packages and stops.
set -euo pipefail

# What building streamz needs beyond Rust: libclang for RocksDB's generated bindings, a C and
# C++ toolchain to build RocksDB and librdkafka from source, pkg-config and zlib's headers for
# librdkafka.
BUILD_PACKAGES=(libclang-dev build-essential pkg-config zlib1g-dev)
# What the tests need beyond that: a JVM and Maven for the local Kafka broker.
TEST_PACKAGES=(openjdk-17-jre-headless maven)

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

say() { printf 'dev.sh: %s\n' "$*" >&2; }

# Installs the Debian packages of "$@" that are not installed yet.
install_missing() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=()
  if ((EUID != 0)); then
    if ! command -v sudo >/dev/null; then
      say "these Debian packages are missing: ${missing[*]}"
      say "not root and no sudo: install them as root (apt-get install ${missing[*]}), then run this again"
      exit 1
    fi
    sudo=(sudo)
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q >/dev/null
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

build_deps() {
  command -v dpkg-query >/dev/null || { say "not a Debian machine: install libclang, a C/C++ toolchain, pkg-config and zlib's headers yourself"; return 0; }
  if ! command -v cargo >/dev/null && [[ -f $HOME/.cargo/env ]]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
  fi
  command -v cargo >/dev/null || { say "cargo not found: install Rust (https://rustup.rs)"; exit 1; }
  install_missing "${BUILD_PACKAGES[@]}" "$@"
}

test_deps() {
  local extra=()
  # A JVM or Maven installed some other way (sdkman, a tarball) is fine too.
  command -v java >/dev/null || extra+=("${TEST_PACKAGES[0]}")
  command -v mvn >/dev/null || extra+=("${TEST_PACKAGES[1]}")
  build_deps "${extra[@]}"
}

# Runs the tests against the broker of $STREAMZ_BOOTSTRAP, or the project's own one, started
# here (and stopped again if it was not already running).
run_tests() {
  local started=0
  if [[ -z ${STREAMZ_BOOTSTRAP:-} ]]; then
    scripts/kafka.sh status >/dev/null 2>&1 || started=1
    STREAMZ_BOOTSTRAP=$(scripts/kafka.sh start)
    export STREAMZ_BOOTSTRAP
    say "Kafka broker at $STREAMZ_BOOTSTRAP (log: $(scripts/kafka.sh log))"
    if ((started)); then
      trap 'scripts/kafka.sh stop >/dev/null || true' EXIT
    fi
  fi
  cargo test --workspace "$@"
  if ((!$#)); then
    # The library without its default features (no runtime, no RocksDB): the DSL, the
    # in-memory stores and the test driver on their own.
    cargo test -p streamz-core --no-default-features --lib
  fi
}

cmd=${1:-}
shift || true
case $cmd in
  deps) build_deps "$@" ;;
  example)
    build_deps
    name=${1:-word_count}
    shift || true
    cargo run --example "$name" -- "$@"
    ;;
  test)
    test_deps
    run_tests "$@"
    ;;
  *)
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
