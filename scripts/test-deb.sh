#!/usr/bin/env bash
# Install test of the volunteer's .deb in a clean Debian 12 (bookworm) root filesystem.
#
# A separate, long-running check, not part of scripts/test.sh: it needs root (chroot, mount), the
# network (a Debian mirror) and, without SKIP_BUILD, a release build (5 minutes cold on 2 cores).
#
#   sudo bash scripts/test-deb.sh                  # build the .deb (scripts/build-deb.sh) and test it
#   sudo SKIP_BUILD=1 bash scripts/test-deb.sh     # package the existing release build, then test
#   sudo DEB=out/xunxing-worker_0.1.0_amd64.deb bash scripts/test-deb.sh   # test a given .deb
#
# What it does:
#   1. builds the package with scripts/build-deb.sh (SKIP_BUILD and SCRATCH_PATH pass through);
#   2. makes a minimal bookworm root filesystem in a temporary directory: debootstrap
#      --variant=minbase (installed with apt when missing), or, when debootstrap fails or
#      ROOTFS_METHOD=debs, the Priority: required packages and apt fetched with `apt-get download`
#      from the host's apt sources and unpacked and configured by hand. The result is cached as
#      ROOTFS_CACHE (default /var/tmp/xunxing-deb-rootfs.tar; delete it to start over), so a
#      second run takes seconds;
#   3. in a chroot (with /proc and /dev mounted, unmounted on exit), installs the .deb with
#      `apt-get install /tmp/xunxing-worker_*.deb` so that its Depends come from the mirror, and
#      checks: `xunxing-worker --help` exits 0 and prints the usage; `status` on the unattached
#      machine says how to attach (its output and exit code are printed); the xunxing system
#      user and /var/lib/xunxing; the unit in /lib/systemd/system and enabled (the
#      multi-user.target.wants symlink); ldd finds every library and no Swift runtime;
#   4. removes the package (unit disabled, link gone), installs it again (enabled again) and
#      purges it (unit, link, user, state and deb-systemd-helper's record gone);
#   5. repeats install and purge without deb-systemd-helper (diverted away), first with no
#      systemctl (postinst makes the symlink by hand), then with systemd installed in the chroot
#      (offline `systemctl enable`; also `systemctl is-enabled` with deb-systemd-helper back).
#
# Every check prints PASS or FAIL; the script exits non-zero if any failed.
# Options (environment): SKIP_BUILD=1, DEB=FILE, KEEP_ROOT=1 (keep the root filesystem and print
# where), ROOTFS_CACHE=FILE, ROOTFS_METHOD=debootstrap|debs, MIRROR=URL (for debootstrap,
# default http://deb.debian.org/debian), SUITE (default bookworm).
# shellcheck disable=SC2016,SC2001 # the sh -c '...' _ "$VAR" checks expand $1 in the child shell
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ROOTFS_CACHE=${ROOTFS_CACHE:-/var/tmp/xunxing-deb-rootfs.tar}
ROOTFS_METHOD=${ROOTFS_METHOD:-debootstrap}
UNIT=xunxing-worker.service
WANTS_LINK=/etc/systemd/system/multi-user.target.wants/$UNIT

[ "$(id -u)" = 0 ] || { echo "test-deb: run as root (chroot and mount need it)" >&2; exit 1; }

T_START=$(date +%s)
PASSED=0
FAILED=0
FAILURES=()
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); echo "FAIL: $*"; }
# check DESCRIPTION COMMAND...: PASS if the command succeeds.
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
say() { echo "test-deb: $*"; }

# --- 1. the package -------------------------------------------------------------------------
if [ -n "${DEB:-}" ]; then
    say "testing the given $DEB"
else
    T0=$(date +%s)
    bash scripts/build-deb.sh | tee /dev/stderr | sed -n 's/^build-deb: wrote //p' > /tmp/xunxing-test-deb.path
    DEB=$(cat /tmp/xunxing-test-deb.path)
    rm -f /tmp/xunxing-test-deb.path
    BUILD_SECONDS=$(( $(date +%s) - T0 ))
    say "build-deb.sh took ${BUILD_SECONDS} s"
fi
case "$DEB" in /*) ;; *) DEB="$REPO/$DEB" ;; esac
[ -f "$DEB" ] || { echo "test-deb: no package at '$DEB'" >&2; exit 1; }
say "package $DEB: $(stat -c %s "$DEB") bytes"

# --- 2. the root filesystem -----------------------------------------------------------------
WORK=$(mktemp -d /var/tmp/xunxing-deb-test.XXXXXX)
ROOT=$WORK/root
mkdir -p "$ROOT"

mounted_under_root() { awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts; }
cleanup() {
    local status=$?
    for m in $(mounted_under_root | sort -r); do umount "$m" 2>/dev/null || umount -l "$m" || true; done
    if [ -n "$(mounted_under_root)" ]; then
        echo "test-deb: still mounted under $ROOT; not removing it" >&2
    elif [ "${KEEP_ROOT:-0}" = 1 ]; then
        echo "test-deb: KEEP_ROOT: the root filesystem is in $ROOT (chroot $ROOT /bin/bash)"
    else
        rm -rf --one-file-system "$WORK"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run a command in the chroot with a clean environment.
in_root() {
    chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
mount_root() {
    mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
    mountpoint -q "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
}
unmount_root() {
    for m in $(mounted_under_root | sort -r); do umount "$m"; done
}

# The fallback: the Priority: required packages and apt (with whatever they depend on), downloaded
# with the host's apt and its sources, unpacked into $ROOT and configured there by dpkg in the
# order debootstrap's second stage uses.
rootfs_from_debs() {
    local debs=$WORK/debs pkgs status=$WORK/empty-status
    mkdir -p "$debs"
    required() { apt-cache dumpavail | awk '/^Package: /{p=$2} /^Priority: required/{print p}' | sort -u; }
    pkgs=$(required)
    if [ -z "$pkgs" ]; then apt-get update -q >/dev/null; pkgs=$(required); fi
    # Add the dependencies (apt-get's own resolution, simulated on an empty dpkg status).
    : > "$status"
    # shellcheck disable=SC2086
    pkgs=$(apt-get -s -o Dir::State::status="$status" install $pkgs apt debian-archive-keyring 2>/dev/null \
        | awk '/^Inst /{print $2}' | sort -u)
    [ -n "$pkgs" ] || { echo "test-deb: could not resolve the required packages" >&2; return 1; }
    say "downloading $(echo "$pkgs" | wc -l) packages with apt-get download"
    # shellcheck disable=SC2086
    (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root $pkgs >/dev/null)
    # Merged /usr, as debootstrap makes it for bookworm.
    mkdir -p "$ROOT"/usr/{bin,sbin,lib,lib64} "$ROOT"/{etc,tmp,proc,dev,var/lib/dpkg/info,var/lib/dpkg/updates}
    for d in bin sbin lib lib64; do ln -s "usr/$d" "$ROOT/$d"; done
    chmod 1777 "$ROOT/tmp"
    for f in "$debs"/*.deb; do
        dpkg-deb --fsys-tarfile "$f" | tar -C "$ROOT" -x --keep-directory-symlink
    done
    : > "$ROOT/var/lib/dpkg/status"
    : > "$ROOT/var/lib/dpkg/available"
    mkdir -p "$ROOT/var/cache/apt/archives"
    cp "$debs"/*.deb "$ROOT/var/cache/apt/archives/"
    mount_root
    in_root /sbin/ldconfig
    local log=$WORK/rootfs-debs.log
    core() { in_root sh -c "cd /var/cache/apt/archives && dpkg --force-depends --install $(printf '%s_*.deb ' "$@")" >>"$log" 2>&1; }
    ln -sf mawk "$ROOT/usr/bin/awk"
    core base-passwd
    core base-files
    core dpkg
    [ -e "$ROOT/etc/localtime" ] || ln -sf /usr/share/zoneinfo/UTC "$ROOT/etc/localtime"
    core libc6
    core perl-base
    rm "$ROOT/usr/bin/awk"
    core mawk
    core debconf
    printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
    in_root sh -c 'dpkg --force-depends --unpack /var/cache/apt/archives/*.deb' >>"$log" 2>&1
    in_root dpkg --configure --pending --force-configure-any --force-depends >>"$log" 2>&1
    if ! in_root dpkg --audit >>"$log" 2>&1 || ! in_root apt-get check -q >>"$log" 2>&1; then
        tail -30 "$log" >&2
        echo "test-deb: the root filesystem from packages is not consistent (see above)" >&2
        return 1
    fi
    rm -f "$ROOT"/var/cache/apt/archives/*.deb
    # The host's apt sources (the same mirror the host uses).
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/"
    else
        cp /etc/apt/sources.list "$ROOT/etc/apt/sources.list"
    fi
    unmount_root
}

if [ -f "$ROOTFS_CACHE" ]; then
    T0=$(date +%s)
    tar -C "$ROOT" -xpf "$ROOTFS_CACHE"
    ROOTFS_SECONDS=$(( $(date +%s) - T0 ))
    say "root filesystem from the cache $ROOTFS_CACHE (${ROOTFS_SECONDS} s)"
else
    T0=$(date +%s)
    made=""
    if [ "$ROOTFS_METHOD" = debootstrap ]; then
        if ! command -v debootstrap >/dev/null; then
            say "installing debootstrap"
            apt-get update -q >/dev/null && apt-get install -y -q debootstrap >/dev/null
        fi
        say "debootstrap --variant=minbase $SUITE $ROOT $MIRROR"
        if debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" > "$WORK/debootstrap.log" 2>&1; then
            made=debootstrap
        else
            tail -20 "$WORK/debootstrap.log" >&2
            say "debootstrap failed; building the root filesystem from downloaded packages"
            for m in $(mounted_under_root | sort -r); do umount "$m"; done
            rm -rf --one-file-system "$ROOT"
            mkdir -p "$ROOT"
        fi
    fi
    if [ -z "$made" ]; then
        rootfs_from_debs
        made="apt-get download"
    fi
    # The test mirror may serve a snapshot whose Release file has expired (as the host allows).
    echo 'Acquire::Check-Valid-Until "false";' > "$ROOT/etc/apt/apt.conf.d/99xunxing-test"
    # Nothing is started in the chroot (the usual guard; there is no init running there anyway).
    printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
    rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*_* 2>/dev/null || true
    ROOTFS_SECONDS=$(( $(date +%s) - T0 ))
    say "root filesystem made with $made in ${ROOTFS_SECONDS} s ($(du -sh "$ROOT" | cut -f1))"
    tar -C "$ROOT" -cpf "$ROOTFS_CACHE.tmp" . && mv "$ROOTFS_CACHE.tmp" "$ROOTFS_CACHE"
    say "cached it as $ROOTFS_CACHE ($(du -h "$ROOTFS_CACHE" | cut -f1))"
fi

cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount_root
check "the root filesystem is Debian 12" grep -q '^12' "$ROOT/etc/debian_version"
check "systemd is not installed in the clean root filesystem" test ! -e "$ROOT/bin/systemctl"
cp "$DEB" "$ROOT/tmp/"
DEB_IN=/tmp/$(basename "$DEB")

# --- 3. install and check -------------------------------------------------------------------
say "apt-get update in the chroot"
in_root apt-get update -q > "$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log"; fail "apt-get update in the chroot"; }
say "apt-get install -y $DEB_IN"
if in_root apt-get install -y -q "$DEB_IN" > "$WORK/install.log" 2>&1; then
    pass "apt-get install $DEB_IN (Depends from the mirror)"
    awk '/^The following NEW packages/ { on = 1; print; next } on && /^  / { print; next } { on = 0 }' \
        "$WORK/install.log" | sed 's/^/    /'
    grep -A3 '^Setting up xunxing-worker' "$WORK/install.log" | sed 's/^/    /'
else
    cat "$WORK/install.log"
    fail "apt-get install $DEB_IN"
fi
check "dpkg says xunxing-worker is installed" \
    sh -c "chroot '$ROOT' dpkg-query -W -f '\${Status}' xunxing-worker | grep -qx 'install ok installed'"

HELP=$(in_root xunxing-worker --help 2>&1) && HELP_RC=0 || HELP_RC=$?
echo "$HELP" | head -12 | sed 's/^/    | /'
check "xunxing-worker --help exits 0 (exit $HELP_RC)" test "$HELP_RC" = 0
check "xunxing-worker --help prints the usage" sh -c 'echo "$1" | grep -qi "usage"' _ "$HELP"

STATUS=$(in_root runuser -u xunxing -- xunxing-worker status --state-dir /var/lib/xunxing 2>&1) \
    && STATUS_RC=0 || STATUS_RC=$?
say "as xunxing: xunxing-worker status --state-dir /var/lib/xunxing -> exit $STATUS_RC:"
echo "$STATUS" | sed 's/^/    | /'
check "status on the unattached machine says how to attach" sh -c 'echo "$1" | grep -qi "attach"' _ "$STATUS"
check "status exits normally, not by a signal or crash (exit $STATUS_RC)" test "$STATUS_RC" -lt 128
check "status leaves the state directory empty" sh -c "[ -z \"\$(ls -A '$ROOT/var/lib/xunxing')\" ]"

PW=$(in_root getent passwd xunxing || true)
echo "    $PW"
check "the xunxing user exists" test -n "$PW"
check "xunxing is a system user (uid < 1000) without a login shell" \
    sh -c 'IFS=: read -r _ _ uid _ _ _ shell <<E
$1
E
[ "$uid" -lt 1000 ] && case "$shell" in */nologin|*/false) true ;; *) false ;; esac' _ "$PW"
check "the xunxing group exists" sh -c "chroot '$ROOT' getent group xunxing >/dev/null"
check "/var/lib/xunxing is xunxing:xunxing 750" \
    test "$(in_root stat -c '%U:%G %a' /var/lib/xunxing)" = "xunxing:xunxing 750"

check "the unit is installed at /lib/systemd/system/$UNIT" test -f "$ROOT/lib/systemd/system/$UNIT"
check "the unit is in the package's file list" sh -c "chroot '$ROOT' dpkg -L xunxing-worker | grep -qx '/lib/systemd/system/$UNIT'"
# Enabled: the symlink exists and leads to the installed unit file.
is_enabled() {
    test -L "$ROOT$WANTS_LINK" && in_root test -f "$WANTS_LINK" &&
        test "$(in_root readlink -f "$WANTS_LINK")" = "$(in_root readlink -f "/lib/systemd/system/$UNIT")"
}
echo "    $WANTS_LINK -> $(readlink "$ROOT$WANTS_LINK" 2>/dev/null || echo '(missing)')"
check "the unit is enabled: $WANTS_LINK points to it" is_enabled

LDD=$(in_root ldd /usr/bin/xunxing-worker 2>&1) || true
echo "$LDD" | sed 's/^/    | /'
check "ldd finds every library" sh -c '! echo "$1" | grep -q "not found"' _ "$LDD"
check "no Swift runtime library is loaded" \
    sh -c '! echo "$1" | grep -Eq "libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime"' _ "$LDD"

# --- 4. remove, install again, purge --------------------------------------------------------
say "dpkg --remove xunxing-worker"
in_root dpkg --remove xunxing-worker > "$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log"; fail "dpkg --remove"; }
check "remove: the unit file is gone" test ! -e "$ROOT/lib/systemd/system/$UNIT"
check "remove: the unit is disabled (no symlink)" test ! -L "$ROOT$WANTS_LINK"
check "remove: the xunxing user and its state are kept until purge" \
    sh -c "chroot '$ROOT' getent passwd xunxing >/dev/null && test -d '$ROOT/var/lib/xunxing'"

say "dpkg --install $DEB_IN (again, after remove)"
in_root dpkg --install "$DEB_IN" > "$WORK/reinstall.log" 2>&1 || { cat "$WORK/reinstall.log"; fail "dpkg --install after remove"; }
check "install after remove: the unit is enabled again" is_enabled

say "dpkg --purge xunxing-worker"
in_root dpkg --purge xunxing-worker > "$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "dpkg --purge"; }
sed 's/^/    | /' "$WORK/purge.log"
check "purge: the package is gone" sh -c "! chroot '$ROOT' dpkg-query -W -f '\${Status}' xunxing-worker 2>/dev/null | grep -q installed"
check "purge: the unit file is gone" test ! -e "$ROOT/lib/systemd/system/$UNIT"
check "purge: the enable symlink is gone" test ! -L "$ROOT$WANTS_LINK"
check "purge: no dangling xunxing link under /etc/systemd" \
    sh -c "[ -z \"\$(find '$ROOT/etc/systemd' -name 'xunxing*' 2>/dev/null)\" ]"
check "purge: deb-systemd-helper's record is gone" \
    sh -c "[ -z \"\$(find '$ROOT/var/lib/systemd' -name 'xunxing*' 2>/dev/null)\" ]"
check "purge: the xunxing user and group are gone" \
    sh -c "! chroot '$ROOT' getent passwd xunxing >/dev/null && ! chroot '$ROOT' getent group xunxing >/dev/null"
check "purge: /var/lib/xunxing is gone" test ! -e "$ROOT/var/lib/xunxing"

# --- 5. postinst's fallbacks ----------------------------------------------------------------
without_dsh_cycle() {   # LABEL EXPECTED_ENABLER
    local label=$1
    # (dpkg-divert warns that renaming a file of an Essential package is dangerous: intended here)
    in_root dpkg-divert --quiet --local --rename --add /usr/bin/deb-systemd-helper 2>/dev/null
    if in_root dpkg --install "$DEB_IN" > "$WORK/install-$label.log" 2>&1; then
        check "$label: install without deb-systemd-helper enables the unit" is_enabled
        if [ "$label" = "with systemctl" ]; then
            check "$label: systemctl is-enabled says enabled" \
                test "$(in_root systemctl is-enabled "$UNIT" 2>&1)" = enabled
        fi
    else
        cat "$WORK/install-$label.log"
        fail "$label: dpkg --install without deb-systemd-helper"
    fi
    in_root dpkg --purge xunxing-worker > "$WORK/purge-$label.log" 2>&1 || { cat "$WORK/purge-$label.log"; fail "$label: dpkg --purge"; }
    check "$label: purge removes the unit and the symlink" \
        sh -c "test ! -e '$ROOT/lib/systemd/system/$UNIT' && test ! -L '$ROOT$WANTS_LINK'"
    in_root dpkg-divert --quiet --local --rename --remove /usr/bin/deb-systemd-helper
}
say "without deb-systemd-helper and without systemctl"
without_dsh_cycle "no systemctl"

say "apt-get install systemd in the chroot"
if in_root apt-get install -y -q --no-install-recommends systemd > "$WORK/systemd.log" 2>&1; then
    in_root dpkg --install "$DEB_IN" > "$WORK/install-dsh-systemd.log" 2>&1 || { cat "$WORK/install-dsh-systemd.log"; fail "dpkg --install with systemd"; }
    check "with systemd installed: systemctl is-enabled says enabled" \
        test "$(in_root systemctl is-enabled "$UNIT" 2>&1)" = enabled
    in_root dpkg --purge xunxing-worker > "$WORK/purge-dsh-systemd.log" 2>&1 || fail "dpkg --purge with systemd"
    check "with systemd installed: purge leaves it not enabled" \
        sh -c "test ! -L '$ROOT$WANTS_LINK' && ! chroot '$ROOT' systemctl is-enabled $UNIT >/dev/null 2>&1"
    say "without deb-systemd-helper, with systemctl (offline)"
    without_dsh_cycle "with systemctl"
else
    tail -20 "$WORK/systemd.log"
    fail "apt-get install systemd in the chroot"
fi

unmount_root
TOTAL=$(( $(date +%s) - T_START ))
echo
say "figures: .deb $(stat -c %s "$DEB") bytes; binary $(dpkg-deb --fsys-tarfile "$DEB" | tar -tv ./usr/bin/xunxing-worker | awk '{print $3}') bytes;" \
    "${BUILD_SECONDS:+build-deb ${BUILD_SECONDS} s; }root filesystem ${ROOTFS_SECONDS} s; total ${TOTAL} s"
if [ "$FAILED" -gt 0 ]; then
    say "$FAILED FAILED, $PASSED passed:"
    printf '  FAIL: %s\n' "${FAILURES[@]}"
    exit 1
fi
say "all $PASSED checks PASSED"
