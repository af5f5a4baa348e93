#!/vm/bin/sh
# PID 1 of the test guest (busybox sh). run.sh copies it into the initramfs
# as /init, next to /vm/config (the values below) and /vm/modules/*.ko.
#
# It turns the initramfs into something that looks like an ordinary root
# filesystem to tincan: first it copies itself onto a tmpfs and switches
# root there, because pivot_root(2) refuses (EINVAL) to move the initramfs
# (rootfs) itself, and a container runtime pivots away from / . Then the host's /usr (and any top-level directory that
# is not a merged-usr symlink) arrives read-only over 9p, the project is
# mounted at the same path as on the host with a tmpfs on top for writes,
# and cgroup2 is the only cgroup filesystem. Then it runs the chosen
# integration tests as root and prints the status marker run.sh waits for.

export PATH=/vm/bin
. /vm/config

# Whatever goes wrong, the host must get a status and qemu must stop:
# run.sh treats a missing marker as a failure.
finish() {
  echo "$VM_MARKER=$1"
  sync
  poweroff -f
  # Only reached if poweroff failed; panic=-1 plus -no-reboot ends qemu.
  exit "$1"
}

fail() {
  echo "vm: $*" >&2
  finish 125
}

if [ "$1" != stage2 ]; then
  /vm/bin/busybox --install -s /vm/bin
  mkdir /newroot
  mount -t tmpfs -o mode=755 tmpfs /newroot || fail 'mount the new root'
  for f in /* /.[!.]*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    [ "$f" = /newroot ] || cp -a "$f" /newroot/ || fail "copy $f"
  done
  exec switch_root /newroot /init stage2
fi

mount -t proc proc /proc || fail 'mount proc'
mount -t sysfs sysfs /sys || fail 'mount sysfs'
mount -t devtmpfs devtmpfs /dev || fail 'mount devtmpfs'
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=000 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run

# The kernel's own modules, in dependency order (run.sh sorted them).
for m in $VM_MODULES; do
  insmod "/vm/modules/$m.ko" || fail "insmod $m"
done

# What a systemd host mounts: cgroup2 alone (cgroup_no_v1=all keeps every
# controller on it), with the same options.
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
  fail 'mount cgroup2'

# msize and cache=loose matter: node opens thousands of files under TCG.
p9opts='trans=virtio,version=9p2000.L,msize=512000,cache=loose'
for d in $VM_HOST_DIRS; do
  mkdir -p "/$d"
  mount -t 9p -o "ro,$p9opts" "host_$d" "/$d" || fail "mount host /$d"
done

mkdir -p /vm/project-ro /vm/project-rw "$VM_PROJECT"
mount -t 9p -o "ro,$p9opts" project /vm/project-ro || fail 'mount project'
# Tests may write next to the project (caches, fixtures): keep those
# writes in the guest's memory, never on the host.
mount -t tmpfs -o mode=755 tmpfs /vm/project-rw
mkdir -p /vm/project-rw/upper /vm/project-rw/work
mount -t overlay -o "lowerdir=/vm/project-ro,upperdir=/vm/project-rw/upper,workdir=/vm/project-rw/work" \
  overlay "$VM_PROJECT" || fail 'mount project overlay'

# systemd makes every mount shared; a runtime must cope with that.
mount --make-rshared / || fail 'make / shared'
ip link set lo up 2>/dev/null
hostname -F /etc/hostname

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/vm/bin
export HOME=/root TERM=dumb CI=true NO_COLOR=1 LANG=C.UTF-8
export TINCAN_TEST_STEPS="$VM_STEPS" TINCAN_TEST_TIME_SCALE="$VM_TIME_SCALE"
# systemd's defaults for services and sessions, not the kernel's 1024:4096.
ulimit -Hn 524288 && ulimit -Sn 1024 || fail "set RLIMIT_NOFILE"
cd "$VM_PROJECT" || fail "cd $VM_PROJECT"

echo "vm: kernel $(uname -r)"
echo "vm: $(grep cgroup2 /proc/mounts)"
echo "vm: cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "vm: node $(node --version)"

# Like systemd, hand the usual controllers to the root's children.
for c in cpu io memory pids; do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control ||
    fail "enable the $c controller"
done
echo "vm: cgroup.subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

echo "vm: booted in $(cut -d' ' -f1 /proc/uptime) s"
echo "vm: running $VM_TESTS (steps: $VM_STEPS, time scale: $VM_TIME_SCALE)"
start=$(date +%s)
# TCG runs every container several times slower than the host: jest's
# default 5 s per test is too short here (the integration project's own
# testTimeout is not applied by jest to a project).
# shellcheck disable=SC2086 # VM_TESTS is a list of paths
node node_modules/.bin/jest --selectProjects integration --runInBand \
  --testTimeout="$VM_TEST_TIMEOUT" \
  --json --outputFile=/tmp/vm-results.json $VM_TESTS
status=$?
echo "vm: jest took $(($(date +%s) - start)) s, status $status"

node -e '
  const r = require("/tmp/vm-results.json");
  console.log(`vm: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' || status=125

finish "$status"
