#!/usr/bin/env bash
# The Debian packages the test suite needs: Chromium for the journeys, the OpenStack clients, jq
# and curl for scripts/client-check.sh, a real OpenStack Swift (its servers, the proxy with tempauth
# and s3api, memcached for tempauth's tokens) for the object-storage tests, and Cinder's own backup
# drivers (python3-cinder, python3-zstd) to prove Cinder restores what we write. As root, installs
# whichever are missing; otherwise names the command to run and fails (a missing client fails the run,
# it never skips it).
set -euo pipefail
missing=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
[ -x /usr/bin/cinder ] || missing+=(python3-cinderclient)
[ -x /usr/bin/openstack ] || missing+=(python3-openstackclient)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
# Cinder's own backup driver (and python3-zstd, its zstd reader) for the format round trips.
/usr/bin/python3 -c 'import cinder.backup.drivers.posix, zstd' 2>/dev/null || missing+=(python3-cinder python3-zstd)
{ command -v debugfs && command -v filefrag; } >/dev/null || missing+=(e2fsprogs)
# mkfs.xfs: the changed-block tracking tests loop-mount an XFS file system with reflinks.
command -v mkfs.xfs >/dev/null || missing+=(xfsprogs)
for server in proxy object container account; do
  [ -x "/usr/bin/swift-$server-server" ] || missing+=("swift-$server")
done
[ -f /etc/swift/swift.conf ] || missing+=(swift)
[ -x /usr/bin/memcached ] || missing+=(memcached)
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[packages] installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "[packages] missing: run 'sudo apt-get install ${missing[*]}' (or set CHROMIUM_PATH to a Chromium), then try again" >&2
  exit 1
fi
