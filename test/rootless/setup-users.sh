#!/usr/bin/env bash
# Creates the two unprivileged users the rootless tests run as (idempotent):
#   tc-single  no subordinate range: one-id maps
#   tc-subuid  a range in /etc/subuid and /etc/subgid: newuidmap maps
# Needs root, useradd (passwd) and newuidmap (uidmap).
set -euo pipefail
for user in tc-single tc-subuid; do
  id "$user" >/dev/null 2>&1 || useradd --no-create-home --shell /usr/sbin/nologin "$user"
done
touch /etc/subuid /etc/subgid
for file in /etc/subuid /etc/subgid; do
  grep -q '^tc-subuid:' "$file" || echo 'tc-subuid:500000:65536' >>"$file"
  # tc-single must have no range, whatever else set one up.
  sed -i '/^tc-single:/d' "$file"
done
