#!/bin/sh
# dindweb's DinD entrypoint. It runs before the nested dockerd because, without
# --privileged, the container's cgroup controllers are mounted read-only and the nested
# daemon could not create a cgroup for anything it runs. With --cgroupns private the
# fresh mounts show the environment's own cgroup as their root, so every limit set on
# the environment also caps everything nested in it.
set -eu

fix_cgroup_v1() {
  # Remember what the engine mounted (mount point and controller options), then
  # mount the same hierarchies again, writable, on a fresh tmpfs.
  mounts=$(awk '$0 ~ / - cgroup / { print $5 " " $NF }' /proc/self/mountinfo)
  echo "$mounts" | while read -r point _; do umount "$point" 2>/dev/null || true; done
  umount /sys/fs/cgroup 2>/dev/null || true
  mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup /sys/fs/cgroup
  echo "$mounts" | while read -r point options; do
    [ -n "$point" ] || continue
    controllers=$(echo "$options" | tr ',' '\n' | grep -vxE 'rw|ro|nosuid|nodev|noexec|relatime|xattr|clone_children' | paste -sd, -)
    mkdir -p "$point"
    mount -t cgroup -o "${controllers:-none,name=systemd}" cgroup "$point" \
      || echo "dindweb-entrypoint: could not mount cgroup $controllers" >&2
  done
}

fix_cgroup_v2() {
  # The official dind entrypoint's approach: move ourselves out of the root group so
  # that controllers can be enabled for the children the nested daemon creates.
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers \
    > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
}

if [ "$(stat -fc %T /sys/fs/cgroup)" = "cgroup2fs" ]; then
  fix_cgroup_v2
elif ! touch /sys/fs/cgroup/memory/.dindweb-writable 2>/dev/null; then
  fix_cgroup_v1
else
  rm -f /sys/fs/cgroup/memory/.dindweb-writable
fi

# A daemon killed before (the container stopped hard) leaves its pid files behind, and a
# new dockerd refuses to start over them.
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid

# The nested daemon listens on its unix socket only: never on TCP.
exec dockerd --host=unix:///var/run/docker.sock "$@"
