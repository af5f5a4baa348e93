#!/bin/bash
# The VM lane: run integration tests as root inside a QEMU guest whose only
# cgroup filesystem is cgroup2 (cgroup_no_v1=all), on Debian's own kernel.
#
# It installs nothing. It needs (Debian package names): qemu-system-x86,
# linux-image-amd64 (a kernel with 9p modules; the cloud kernel has none),
# busybox-static and cpio. See test/vm/README.md.
#
# Environment:
#   VM_TESTS    test files to run, relative to the project (default: those
#               of DEFAULT_TESTS that exist)
#   VM_KERNEL   kernel release to boot (default: the newest under /boot
#               whose modules include 9p)
#   VM_TIMEOUT  seconds before qemu is killed (default 900)
#   VM_STEPS    which runtimes each test runs against: newest (default; the
#               newest step the test applies to) or all (every step, as on
#               the host: several times slower)
#   VM_TEST_TIMEOUT  jest's per-test timeout in ms (default 120000)
#   VM_TIME_SCALE    factor on the tests' own tincan timeouts (default 4)
#   VM_KEEP     set to 1 to keep the temp dir (console log, initramfs)
#   VM_CPU, VM_APPEND, VM_INIT  for debugging: qemu's -cpu (default max),
#               more kernel arguments, another guest init script

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# The tests that need a pure cgroup v2 kernel, plus cli as the smoke test.
# Within 15 minutes of TCG, keep this list short.
DEFAULT_TESTS="test/integration/cli.test.ts
test/integration/namespaces.test.ts
test/integration/mounts.test.ts
test/integration/seccomp.test.ts
test/integration/resources.test.ts"
TIMEOUT=${VM_TIMEOUT:-900}
MARKER=TINCAN_VM_STATUS
# Modules the guest loads; run.sh adds their dependencies.
WANT_MODULES="virtio_pci 9pnet_virtio 9p overlay"
# The guest mounts /etc from the initramfs: these are copied from the host
# when present (no shadow, no keys).
ETC_FILES="passwd group nsswitch.conf ld.so.cache ld.so.conf ld.so.conf.d
os-release localtime"

die() {
  echo "test:vm: $*" >&2
  exit 1
}

# ---- what the host must have ------------------------------------------------

QEMU=$(command -v qemu-system-x86_64) ||
  die 'qemu-system-x86_64 not found: apt-get install qemu-system-x86'
command -v cpio >/dev/null || die 'cpio not found: apt-get install cpio'
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 ||
  die "$BUSYBOX is missing or not static: apt-get install busybox-static"
[ "$(id -u)" = 0 ] || die 'the guest shares root-owned files: run as root'
[ -f "$ROOT/packages/cli/dist/index.js" ] ||
  die 'the project is not built: run npm run build first'
[ -x "$ROOT/node_modules/.bin/jest" ] ||
  die 'node_modules is missing: run npm install first'

has_9p() {
  grep -q '/9p\.ko' "/lib/modules/$1/modules.dep" 2>/dev/null
}

if [ -n "${VM_KERNEL:-}" ]; then
  KVER=$VM_KERNEL
  [ -f "/boot/vmlinuz-$KVER" ] || die "no /boot/vmlinuz-$KVER"
  has_9p "$KVER" || die "/lib/modules/$KVER has no 9p module"
else
  KVER=
  for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' |
    sort -V -r); do
    if has_9p "$k"; then
      KVER=$k
      break
    fi
  done
  [ -n "$KVER" ] ||
    die 'no kernel with 9p modules under /boot: apt-get install linux-image-amd64'
fi
KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
[ -r "$KERNEL" ] || die "cannot read $KERNEL"

if [ -n "${VM_TESTS:-}" ]; then
  TESTS=$VM_TESTS
  for t in $TESTS; do
    [ -f "$ROOT/$t" ] || die "no such test file: $t"
  done
else
  TESTS=
  for t in $DEFAULT_TESTS; do
    [ -f "$ROOT/$t" ] && TESTS="$TESTS $t"
  done
fi
TESTS=$(echo $TESTS)
STEPS=${VM_STEPS:-newest}
case $STEPS in
newest | all) ;;
*) die "VM_STEPS=$STEPS: expected newest or all" ;;
esac
[ -n "$TESTS" ] || die 'no test files to run'

# ---- the initramfs ----------------------------------------------------------

TMP=$(mktemp -d /tmp/vmlane.XXXXXX)
QEMU_PID=
TAIL_PID=
cleanup() {
  local rc=$?
  if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
    kill -KILL "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
  fi
  if [ -n "$TAIL_PID" ]; then
    kill "$TAIL_PID" 2>/dev/null || true
    wait "$TAIL_PID" 2>/dev/null || true
  fi
  if [ "${VM_KEEP:-}" = 1 ]; then
    echo "test:vm: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "test:vm: interrupted" >&2; exit 130' INT
trap 'echo "test:vm: terminated" >&2; exit 143' TERM

IRD=$TMP/initramfs
mkdir -p "$IRD"/{vm/bin,vm/modules,etc,proc,sys,dev,tmp,run,root,var/tmp}
chmod 1777 "$IRD/tmp" "$IRD/var/tmp"
chmod 700 "$IRD/root"
cp "$BUSYBOX" "$IRD/vm/bin/busybox"
ln -s busybox "$IRD/vm/bin/sh"
cp "${VM_INIT:-$ROOT/test/vm/guest-init.sh}" "$IRD/init"
chmod 755 "$IRD/init"

# Modules in dependency order: modules.dep lists each module's full
# dependency closure, deepest last, so walk it depth first.
declare -A SEEN=()
ORDER=()
module_path() {
  # A name's file: dashes and underscores are the same to the kernel.
  local pattern
  pattern=$(echo "$1" | sed 's/[-_]/[-_]/g')
  grep -E "(^|/)${pattern}\.ko(\.xz|\.zst|\.gz)?:" "$MODDIR/modules.dep" |
    head -n1 | cut -d: -f1
}
add_module() {
  local rel=$1 dep
  [ -n "${SEEN[$rel]:-}" ] && return
  SEEN[$rel]=1
  for dep in $(grep -E "^$rel:" "$MODDIR/modules.dep" | cut -d: -f2); do
    add_module "$dep"
  done
  ORDER+=("$rel")
}
for m in $WANT_MODULES; do
  rel=$(module_path "$m")
  if [ -z "$rel" ]; then
    # Built into this kernel: nothing to load.
    grep -qE "/${m}\.ko$" "$MODDIR/modules.builtin" 2>/dev/null ||
      die "$MODDIR has no module $m"
    continue
  fi
  add_module "$rel"
done
NAMES=
for rel in "${ORDER[@]}"; do
  name=$(basename "$rel" | sed -E 's/\.ko(\.xz|\.zst|\.gz)?$//')
  out=$IRD/vm/modules/$name.ko
  # busybox insmod takes plain files only.
  case $rel in
  *.xz) xz -dc "$MODDIR/$rel" >"$out" ;;
  *.zst) zstd -qdc "$MODDIR/$rel" >"$out" ;;
  *.gz) gzip -dc "$MODDIR/$rel" >"$out" ;;
  *) cp "$MODDIR/$rel" "$out" ;;
  esac
  NAMES="$NAMES $name"
done

# The host's top-level directories: merged-usr symlinks are copied as
# they are, real directories are shared read-only.
HOST_DIRS=
for d in usr bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then
    cp -P "/$d" "$IRD/$d"
  elif [ -d "/$d" ]; then
    HOST_DIRS="$HOST_DIRS $d"
  fi
done

for f in $ETC_FILES; do
  [ -e "/etc/$f" ] && cp -a "/etc/$f" "$IRD/etc/"
done
echo tincan-vm >"$IRD/etc/hostname"
printf '127.0.0.1\tlocalhost tincan-vm\n::1\tlocalhost\n' >"$IRD/etc/hosts"
ln -s /proc/self/mounts "$IRD/etc/mtab"

cat >"$IRD/vm/config" <<EOF
VM_MARKER='$MARKER'
VM_MODULES='$(echo $NAMES)'
VM_HOST_DIRS='$(echo $HOST_DIRS)'
VM_PROJECT='$ROOT'
VM_TESTS='$TESTS'
VM_TEST_TIMEOUT='${VM_TEST_TIMEOUT:-120000}'
VM_STEPS='$STEPS'
VM_TIME_SCALE='${VM_TIME_SCALE:-4}'
EOF

(cd "$IRD" && find . | cpio -o -H newc --quiet) | gzip -1 >"$TMP/initramfs.gz"

# ---- boot -------------------------------------------------------------------

SHARES=(-virtfs "local,path=$ROOT,mount_tag=project,security_model=none,readonly=on")
for d in $HOST_DIRS; do
  SHARES+=(-virtfs "local,path=/$d,mount_tag=host_$d,security_model=none,readonly=on")
done

echo "test:vm: kernel $KVER, tests: $TESTS"
CONSOLE=$TMP/console.log
: >"$CONSOLE"
START=$(date +%s)
# No network device at all (-nic none): the guest has only lo.
"$QEMU" -accel tcg -cpu "${VM_CPU:-max}" -m 4G -smp 2 -nographic -nic none -no-reboot \
  -kernel "$KERNEL" -initrd "$TMP/initramfs.gz" \
  -append "cgroup_no_v1=all console=ttyS0 panic=-1 loglevel=4 ${VM_APPEND:-}" \
  "${SHARES[@]}" </dev/null >"$CONSOLE" 2>&1 &
QEMU_PID=$!
tail -n +1 -f "$CONSOLE" &
TAIL_PID=$!

while kill -0 "$QEMU_PID" 2>/dev/null; do
  if [ $(($(date +%s) - START)) -ge "$TIMEOUT" ]; then
    echo "test:vm: timed out after $TIMEOUT s: killing qemu" >&2
    kill -KILL "$QEMU_PID" 2>/dev/null || true
    break
  fi
  sleep 1
done
QEMU_STATUS=0
wait "$QEMU_PID" || QEMU_STATUS=$?
QEMU_PID=
sleep 0.2 # let tail print the last lines
kill "$TAIL_PID" 2>/dev/null || true
wait "$TAIL_PID" 2>/dev/null || true
TAIL_PID=

ELAPSED=$(($(date +%s) - START))
STATUS=$(tr -d '\r' <"$CONSOLE" | sed -n "s/^$MARKER=\([0-9]*\)$/\1/p" | tail -n1)
SUMMARY=$(tr -d '\r' <"$CONSOLE" | sed -n 's/^vm: \([0-9]* passed, [0-9]* failed\)$/\1/p' | tail -n1)
echo
echo "test:vm: guest ran for $ELAPSED s (qemu exit status $QEMU_STATUS)"
if [ -z "$STATUS" ]; then
  echo 'test:vm: the guest ended without reporting a status' >&2
  exit 1
fi
echo "${SUMMARY:-0 passed, 0 failed (no results)}"
exit "$STATUS"
