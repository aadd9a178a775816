#!/usr/bin/env bash
# .ci/servers.sh — build the servers the end-to-end tests also run on, into a cache outside the clone.
#
#   .ci/servers.sh            build (or reuse) every server below
#   .ci/servers.sh valkey     only the ones whose name starts with the word given
#
# Each server is built from its upstream release tarball, taken from Debian's source package (the
# `.orig.tar.gz` only; Debian's patches are not applied), with `make MALLOC=libc BUILD_TLS=no`.
# The binaries land in $FAINA_SERVERS (default /var/cache/faina-filter/servers):
#   redis-8.6.3/redis-server, redis-8.6.3/redis-cli, valkey-9.1.2/valkey-server, valkey-9.1.2/valkey-cli
# A server already built there is reused; the tests find them there (tests/it/common/servers.rs).
# The system's apt configuration is left untouched: the deb-src entry lives in a private apt state.
set -euo pipefail

cache=${FAINA_SERVERS:-/var/cache/faina-filter/servers}
jobs=${FAINA_SERVERS_JOBS:-2}

# name  upstream-version  debian-package  debian-version  suite  binary-prefix
servers=(
    "redis  8.6.3 redis  5:8.6.3-1 experimental redis"
    "valkey 9.1.2 valkey 9.1.2-1   sid          valkey"
)

say() { echo "servers.sh: $*" >&2; }

# The Debian mirror the system's apt already uses (one-line or deb822 sources).
debian_mirror() {
    local m
    m=$(grep -rhoE '^URIs:[[:space:]]*[^[:space:]]+/debian/?$' /etc/apt/sources.list.d/ 2>/dev/null |
        head -n 1 | awk '{print $2}' || true)
    if [ -z "$m" ]; then
        m=$(grep -rhoE '^deb[[:space:]]+[^[:space:]]+/debian/?[[:space:]]' \
            /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -n 1 | awk '{print $2}' || true)
    fi
    echo "${m:-http://deb.debian.org/debian}"
}

# fetch_orig PACKAGE VERSION SUITE DEST: download the source package's upstream tarball into DEST and
# print its path. Only the .orig.tar.gz is kept.
fetch_orig() {
    local pkg=$1 ver=$2 suite=$3 dest=$4 state have
    have=$(ls "$dest/${pkg}_$(upstream_of "$ver")".orig.tar.gz 2>/dev/null || true)
    if [ -n "$have" ]; then
        echo "$have"
        return
    fi
    command -v apt-get >/dev/null || { say "apt-get not found: it downloads Debian's source package of $pkg"; exit 1; }
    state=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$state'" EXIT
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dest"
    echo "deb-src $(debian_mirror) $suite main" >"$state/sources.list"
    local opts=(-qq
        -o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=-"
        -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
        -o "APT::Get::Only-Source=true" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
    say "downloading the source package $pkg=$ver ($suite)"
    apt-get "${opts[@]}" update >&2
    (cd "$state" && apt-get "${opts[@]}" source --download-only "$pkg=$ver" >&2)
    local orig
    orig=$(ls "$state/${pkg}_$(upstream_of "$ver")".orig.tar.gz)
    mv "$orig" "$dest/"
    rm -rf "$state"
    echo "$dest/$(basename "$orig")"
}

# "5:8.6.3-1" -> "8.6.3": Debian's epoch and revision stripped.
upstream_of() {
    local v=${1#*:}
    echo "${v%-*}"
}

# build NAME VERSION PKG DEBVER SUITE PREFIX
build() {
    local name=$1 version=$2 pkg=$3 debver=$4 suite=$5 prefix=$6
    local home="$cache/$name-$version" server="$prefix-server" cli="$prefix-cli"
    if [ -x "$home/$server" ] && "$home/$server" --version | grep -q "v=$version "; then
        say "reusing $home/$server ($("$home/$server" --version | cut -d' ' -f1-3))"
        return
    fi
    local orig tree
    orig=$(fetch_orig "$pkg" "$debver" "$suite" "$cache/src")
    tree=$(mktemp -d "$cache/build-$name.XXXXXX")
    tar -xzf "$orig" -C "$tree" --strip-components=1
    say "building $name $version in $tree (make -j$jobs MALLOC=libc BUILD_TLS=no)"
    if ! make -C "$tree" -j"$jobs" MALLOC=libc BUILD_TLS=no >"$tree.log" 2>&1; then
        tail -n 40 "$tree.log" >&2
        say "building $name $version failed; the whole log is $tree.log"
        exit 1
    fi
    mkdir -p "$home.new"
    cp "$tree/src/$server" "$tree/src/$cli" "$home.new/"
    rm -rf "$home" "$tree" "$tree.log"
    mv "$home.new" "$home"
    say "built $home/$server ($("$home/$server" --version | cut -d' ' -f1-3))"
}

want=${1:-}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    say "cannot write to $cache: set FAINA_SERVERS to a directory of yours outside the clone"
    exit 1
fi
for line in "${servers[@]}"; do
    # shellcheck disable=SC2086
    set -- $line
    if [ -z "$want" ] || [[ $1 == "$want"* ]]; then
        build "$@"
    fi
done
