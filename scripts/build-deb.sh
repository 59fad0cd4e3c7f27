#!/usr/bin/env bash
# Builds the volunteer's package: one xunxing-worker binary with the Swift runtime linked
# statically (FFTW, libcurl and the C/C++ runtime stay dynamic, from Debian), the hardened
# systemd unit and the maintainer scripts, packed with dpkg-deb into out/.
#
#   bash scripts/build-deb.sh                # release build (about 5 minutes cold on 2 cores) and package
#   SKIP_BUILD=1 bash scripts/build-deb.sh   # package the last release build, without building
#
# The build has a scratch directory of its own, SCRATCH_PATH (default .build-deb in the repository,
# ignored by git), so it neither waits on nor disturbs a developer's .build. SKIP_BUILD=1 packages
# the binary already in $SCRATCH_PATH/release and fails if there is none.
#
# Check the result with: dpkg-deb -I out/xunxing-worker_*.deb; dpkg-deb -c out/xunxing-worker_*.deb
# Install-test it in a clean Debian 12 chroot with: bash scripts/test-deb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH_PATH:-.build-deb}
case "$SCRATCH" in /*) ;; *) SCRATCH="$PWD/$SCRATCH" ;; esac

VERSION=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/Worker/WorkerDaemon.swift | head -1)
[ -n "$VERSION" ] || { echo "build-deb: no version found in Sources/Worker/WorkerDaemon.swift" >&2; exit 1; }
ARCH=$(dpkg --print-architecture)
PACKAGE=xunxing-worker
OUT=out/${PACKAGE}_${VERSION}_${ARCH}.deb

BIN="$SCRATCH/release/xunxing-worker"
case "${SKIP_BUILD:-0}" in
    ""|0|no|false)
        echo "build-deb: swift build -c release --product xunxing-worker --static-swift-stdlib --scratch-path $SCRATCH"
        swift build -c release --product xunxing-worker --static-swift-stdlib --scratch-path "$SCRATCH"
        ;;
    *)
        if [ ! -x "$BIN" ]; then
            echo "build-deb: SKIP_BUILD is set but there is no release build at $BIN;" >&2
            echo "build-deb: build it first: bash scripts/build-deb.sh (or set SCRATCH_PATH to where it is)" >&2
            exit 1
        fi
        echo "build-deb: SKIP_BUILD: packaging the existing $BIN (built $(date -r "$BIN" '+%F %T'))"
        ;;
esac
[ -x "$BIN" ] || { echo "build-deb: the build did not produce $BIN" >&2; exit 1; }

# The binary must not need the Swift runtime, and everything it needs must come from Debian.
NEEDED=$(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "build-deb: $BIN needs: $(echo $NEEDED)"
if echo "$NEEDED" | grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime|lib_Foundation'; then
    echo "build-deb: the Swift runtime is linked dynamically; expected --static-swift-stdlib" >&2
    exit 1
fi
if ldd "$BIN" | grep -q 'not found'; then
    ldd "$BIN" >&2
    echo "build-deb: unresolved libraries" >&2
    exit 1
fi

# Depends: the Debian package of every library the binary needs (FFTW and libcurl named as the
# runtime packages; libc6, libstdc++6 and libgcc-s1 are in every Debian installation).
DEPENDS=""
for lib in $NEEDED; do
    path=$(ldd "$BIN" | awk -v l="$lib" '$1 == l { print $3 }')
    [ -n "$path" ] || continue
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
    if [ -z "$pkg" ]; then echo "build-deb: no Debian package provides $lib ($path)" >&2; exit 1; fi
    case " $DEPENDS " in *" $pkg,"*|*" $pkg "*) ;; *) DEPENDS="$DEPENDS $pkg," ;; esac
done
DEPENDS=$(echo "$DEPENDS" | sed 's/^ //; s/,$//; s/libc6\b/libc6 (>= 2.34)/')
echo "build-deb: Depends: $DEPENDS"
for required in libfftw3-single3 libcurl4; do
    case "$DEPENDS" in *"$required"*) ;; *) echo "build-deb: expected a dependency on $required" >&2; exit 1 ;; esac
done

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
chmod 0755 "$STAGE"
install -D -m 0755 "$BIN" "$STAGE/usr/bin/xunxing-worker"
strip --strip-unneeded "$STAGE/usr/bin/xunxing-worker"
install -D -m 0644 packaging/xunxing-worker.service "$STAGE/lib/systemd/system/xunxing-worker.service"
install -d -m 0755 "$STAGE/usr/share/doc/$PACKAGE"
cat > "$STAGE/usr/share/doc/$PACKAGE/README.Debian" <<'DOC'
Xunxing volunteer worker
========================

1. Sign up as a volunteer (xunxing signup, or the project's web site) to get an account key.
2. Attach this machine:
     sudo -u xunxing xunxing-worker attach --state-dir /var/lib/xunxing \
         --coordinator https://COORDINATOR --account-key KEY
3. Optionally let it reach only its coordinator:
     sudo -u xunxing xunxing-worker confine --state-dir /var/lib/xunxing \
         | sudo install -D -m 0644 /dev/stdin /etc/systemd/system/xunxing-worker.service.d/coordinator.conf
     sudo systemctl daemon-reload
   Start the service:   sudo systemctl start xunxing-worker
4. Follow it:           sudo -u xunxing xunxing-worker status --state-dir /var/lib/xunxing
Settings: sudo -u xunxing xunxing-worker config --help (then systemctl restart xunxing-worker).
DOC
install -d -m 0755 "$STAGE/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "packaging/$script" "$STAGE/DEBIAN/$script"
done
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: $PACKAGE
Version: $VERSION
Architecture: $ARCH
Maintainer: Xunxing project <xunxing@example.org>
Installed-Size: $SIZE
Depends: $DEPENDS, adduser | passwd
Section: science
Priority: optional
Description: Xunxing volunteer pulsar-search worker
 Searches radio-telescope data for pulsars for the Xunxing volunteer-computing
 project: fetches work units from a coordinator, searches them with FFTW and
 uploads the candidates. Runs as a hardened, low-priority systemd service that
 checkpoints its work, pauses on battery and can be limited in CPU use.
CONTROL

mkdir -p out
dpkg-deb --root-owner-group --build "$STAGE" "$OUT" >/dev/null
echo "build-deb: wrote $OUT"
dpkg-deb -I "$OUT"
dpkg-deb -c "$OUT"
