#!/usr/bin/env bash
# The real OpenStack clients against a fresh Cinderblock: Debian's `openstack` (python3-openstackclient)
# and `cinder` (python3-cinderclient) drive the whole backup flow through the Keystone and Block
# Storage endpoints, once at the negotiated latest microversion and once at 3.0. A missing client
# fails the run; it never skips. Usage: bash scripts/client-check.sh
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

OPENSTACK=${OPENSTACK_BIN:-/usr/bin/openstack}
CINDER=${CINDER_BIN:-/usr/bin/cinder}
PY=/usr/bin/python3
for tool in "$OPENSTACK" "$CINDER" "$PY" jq curl sha256sum; do
  if ! command -v "$tool" >/dev/null; then
    echo "[clients] FAIL: $tool is missing: run 'sudo apt-get install python3-cinderclient python3-openstackclient jq curl'" >&2
    exit 1
  fi
done

log() { echo "[clients] $*"; }
fail() { echo "[clients] FAIL: $*" >&2; exit 1; }
expect() { # expect <what> <actual> <wanted>
  [ "$2" = "$3" ] || fail "$1: got '$2', wanted '$3'"
}

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cinderblock-clients-XXXXXX")
DATA="$WORK/data"
mkdir -p "$DATA"
PORT=$(free_port)
PG_PORT=$(free_port)
ADMIN_PASSWORD="admin-$(head -c 9 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
DEMO_PASSWORD="demo-$(head -c 9 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
APP_LOG="$WORK/app.log"
APP_PID=

cleanup() {
  local status=$?
  if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then
    kill -TERM -- "-$APP_PID" 2>/dev/null || kill -TERM "$APP_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$APP_PID" 2>/dev/null || true
  fi
  if [ "$status" != 0 ]; then
    echo "[clients] the app's log (last 40 lines):" >&2
    tail -n 40 "$APP_LOG" >&2 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT INT TERM

log "starting Cinderblock on port $PORT (PostgreSQL on $PG_PORT, data in $DATA)"
PORT=$PORT CINDERBLOCK_PG_PORT=$PG_PORT CINDERBLOCK_DATA_DIR=$DATA \
  CINDERBLOCK_ADMIN_PASSWORD=$ADMIN_PASSWORD CINDERBLOCK_DEMO_PASSWORD=$DEMO_PASSWORD \
  setsid node --import tsx scripts/launch.ts >"$APP_LOG" 2>&1 &
APP_PID=$!
for _ in $(seq 1 600); do
  grep -q '^\[cinderblock\] ready:' "$APP_LOG" && break
  kill -0 "$APP_PID" 2>/dev/null || fail "the launcher exited before it was ready"
  sleep 0.5
done
grep -q '^\[cinderblock\] ready:' "$APP_LOG" || fail "the app was not ready within 300 s"
BASE="http://127.0.0.1:$PORT"
log "ready at $BASE"

# Credentials as an operator sets them (docs/openstack-clients.md).
export OS_AUTH_URL="$BASE/identity/v3" OS_IDENTITY_API_VERSION=3 OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
unset OS_CLOUD OS_TOKEN OS_AUTH_TYPE OS_VOLUME_API_VERSION OS_APPLICATION_CREDENTIAL_ID OS_APPLICATION_CREDENTIAL_SECRET 2>/dev/null || true
as_demo() { OS_USERNAME=demo OS_PASSWORD=$DEMO_PASSWORD OS_PROJECT_NAME=demo "$@"; }
as_admin() { OS_USERNAME=admin OS_PASSWORD=$ADMIN_PASSWORD OS_PROJECT_NAME=admin "$@"; }

# cinder prints tables; this turns one into JSON: a Property/Value table into an object, any other into a list of rows.
table_json() {
  "$PY" -c '
import json, sys
rows = [[c.strip() for c in line.strip()[1:-1].split("|")] for line in sys.stdin if line.startswith("|")]
if not rows:
    print("[]"); sys.exit()
head, body = rows[0], rows[1:]
if head[:2] == ["Property", "Value"]:
    print(json.dumps({r[0]: r[1] for r in body}))
else:
    print(json.dumps([dict(zip(head, r)) for r in body]))
'
}

wait_for() { # wait_for <what> <command...>: until the command succeeds, at most 120 s
  local what=$1; shift
  for _ in $(seq 1 240); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  fail "timed out waiting for $what"
}
volume_is() { [ "$(as_demo "$OPENSTACK" volume show "$1" -f json | jq -r .status)" = "$2" ]; }
backup_is() { [ "$(as_demo "$OPENSTACK" volume backup show "$1" -f json | jq -r .status)" = "$2" ]; }
admin_backup_is() { [ "$(as_admin "$OPENSTACK" volume backup show "$1" -f json | jq -r .status)" = "$2" ]; }
volume_gone() { ! as_admin "$OPENSTACK" volume show "$1" -f json >/dev/null 2>&1; }
backup_gone() { ! as_admin "$OPENSTACK" volume backup show "$1" -f json >/dev/null 2>&1; }
volume_file() { echo "$DATA/volumes/volume-$1.img"; }
backup_dir() { echo "$DATA/backups/${1:0:2}/${1:2:2}/$1"; }

property_of() { # property_of <volume show json> <key>: one property, whether printed as an object or as k='v' text
  jq -r 'if (.properties | type) == "object" then (.properties | to_entries | map("\(.key)=\(.value)") | join(",")) else .properties end' <<<"$1" \
    | tr -d "'{} " | tr ',' '\n' | sed -n "s/^$2[:=]//p"
}

upload() { # upload <volume id> <file>: the project's upload route, with a Keystone token (X-Auth-Token)
  local token
  token=$(as_demo "$OPENSTACK" token issue -f value -c id)
  curl -fsS -X POST -H "X-Auth-Token: $token" -H 'Content-Type: application/octet-stream' -H "X-File-Name: $(basename "$2")" \
    --data-binary "@$2" "$BASE/api/volumes/$1/upload" | jq -e '.jobId' >/dev/null || fail "upload to $1 was refused"
  wait_for "volume $1 to take the upload" volume_is "$1" available
}

# The negotiated latest: what cinderclient settles on against our maximum (cinder does this itself).
SERVER_MAX=$(curl -fsS "$BASE/volume/" | jq -r '.versions[0].version')
expect "server maximum microversion" "$SERVER_MAX" "3.72"
CLIENT_MAX=$("$PY" -c 'from cinderclient import api_versions; print(api_versions.MAX_VERSION)')
LATEST=$(printf '%s\n%s\n' "$SERVER_MAX" "$CLIENT_MAX" | sort -V | head -n 1)
NEGOTIATED=$(as_demo "$CINDER" --debug list 2>&1 | grep -io 'openstack-api-version: volume [0-9.]*' | tail -n 1 | awk '{print $3}')
expect "cinder's negotiated microversion" "$NEGOTIATED" "$LATEST"
DEMO_PROJECT=$(as_demo "$OPENSTACK" token issue -f json | jq -r .project_id)
ADMIN_PROJECT=$(as_admin "$OPENSTACK" token issue -f json | jq -r .project_id)

flow() { # flow <microversion or "latest">
  local label=$1 tag
  local -a O C
  tag="$(echo "$label" | tr -dc 'a-z0-9')-$RANDOM"
  if [ "$label" = latest ]; then
    O=("$OPENSTACK" --os-volume-api-version "$LATEST"); C=("$CINDER")
  else
    # openstackclient spells 3.0 as "3" (it warns about "3.0" but sends the same header).
    O=("$OPENSTACK" --os-volume-api-version "${label%.0}"); C=("$CINDER" --os-volume-api-version "$label")
  fi
  local sent
  sent=$(as_demo "${O[@]}" --debug volume list 2>&1 | grep -io 'openstack-api-version: volume [0-9.]*' | tail -n 1 | awk '{print $3}')
  expect "openstack's microversion" "$sent" "$([ "$label" = latest ] && echo "$LATEST" || echo "$label")"
  sent=$(as_demo "${C[@]}" --debug list 2>&1 | grep -io 'openstack-api-version: volume [0-9.]*' | tail -n 1 | awk '{print $3}')
  expect "cinder's microversion" "$sent" "$([ "$label" = latest ] && echo "$LATEST" || echo "$label")"
  log "── flow at $label ──"

  log "create a volume"
  local vol
  vol=$(as_demo "${O[@]}" volume create --size 1 --description "client check" --property purpose=ci "vol-$tag" -f json)
  expect "new volume size" "$(jq -r .size <<<"$vol")" 1
  expect "new volume name" "$(jq -r .name <<<"$vol")" "vol-$tag"
  vol=$(jq -r .id <<<"$vol")
  wait_for "volume $vol to be available" volume_is "$vol" available
  local shown
  shown=$(as_demo "${O[@]}" volume show "vol-$tag" -f json)
  expect "volume found by name" "$(jq -r .id <<<"$shown")" "$vol"
  expect "volume property" "$(jq -r '.properties.purpose // .properties' <<<"$shown" | tr -d "'{} " | sed 's/^purpose[:=]//')" ci

  log "write data through the upload route"
  head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/first.bin"
  upload "$vol" "$WORK/first.bin"
  expect "first bytes of the volume" "$(head -c $((3 * 1024 * 1024)) "$(volume_file "$vol")" | sha256sum | cut -d' ' -f1)" "$(sha256sum <"$WORK/first.bin" | cut -d' ' -f1)"

  log "back it up (full)"
  local full incr
  full=$(as_demo "${O[@]}" volume backup create --name "full-$tag" "$vol" -f json | jq -r .id)
  wait_for "backup $full" backup_is "$full" available
  expect "full backup is_incremental" "$(as_demo "${O[@]}" volume backup show "$full" -f json | jq -r .is_incremental)" false

  log "change the data and make an incremental"
  head -c $((1024 * 1024)) /dev/urandom >"$WORK/second.bin"
  upload "$vol" "$WORK/second.bin"
  incr=$(as_demo "${O[@]}" volume backup create --incremental --name "incr-$tag" "$vol" -f json | jq -r .id)
  wait_for "backup $incr" backup_is "$incr" available
  local want
  want=$(sha256sum <"$(volume_file "$vol")" | cut -d' ' -f1)

  log "list with filters and show"
  expect "backups of the volume, available" \
    "$(as_demo "${O[@]}" volume backup list --volume "$vol" --status available -f json | jq -r 'map(.ID) | sort | join(",")')" \
    "$(printf '%s\n%s\n' "$full" "$incr" | sort | paste -sd, -)"
  expect "cinder backup-list --name" "$(as_demo "${C[@]}" backup-list --name "incr-$tag" --volume-id "$vol" | table_json | jq -r 'map(.ID) | join(",")')" "$incr"
  shown=$(as_demo "${O[@]}" volume backup show "$incr" -f json)
  expect "incremental volume_id" "$(jq -r .volume_id <<<"$shown")" "$vol"
  expect "incremental is_incremental" "$(jq -r .is_incremental <<<"$shown")" true
  expect "incremental size" "$(jq -r .size <<<"$shown")" 1
  expect "incremental name" "$(jq -r .name <<<"$shown")" "incr-$tag"
  expect "cinder backup-show status" "$(as_demo "${C[@]}" backup-show "$incr" | table_json | jq -r .status)" available

  log "export a record, lose the backup's database row, import the record (admin)"
  local spare record service url imported
  spare=$(as_demo "${O[@]}" volume backup create --name "spare-$tag" "$vol" -f json | jq -r .id)
  wait_for "backup $spare" backup_is "$spare" available
  record=$(as_admin "${O[@]}" volume backup record export "$spare" -f json)
  service=$(jq -r .backup_service <<<"$record")
  url=$(jq -r .backup_url <<<"$record")
  [ -n "$url" ] && [ "$url" != null ] || fail "export_record gave no backup_url"
  cp -a "$(backup_dir "$spare")" "$WORK/spare-objects"
  as_demo "${O[@]}" volume backup delete "$spare"
  wait_for "backup $spare to be deleted" backup_gone "$spare"
  mkdir -p "$(dirname "$(backup_dir "$spare")")"
  cp -a "$WORK/spare-objects" "$(backup_dir "$spare")"
  rm -rf "$WORK/spare-objects"
  imported=$(as_admin "${O[@]}" volume backup record import "$service" "$url" -f json | jq -r .id)
  expect "imported backup id" "$imported" "$spare"
  wait_for "imported backup $spare" admin_backup_is "$spare" available

  log "restore the incremental to a new volume and compare the checksum"
  local restored
  restored=$(as_demo "${C[@]}" backup-restore --name "restored-$tag" "$incr" | table_json | jq -r .volume_id)
  [ -n "$restored" ] && [ "$restored" != null ] || fail "backup-restore named no volume"
  wait_for "restored volume $restored" volume_is "$restored" available
  expect "restored volume checksum" "$(sha256sum <"$(volume_file "$restored")" | cut -d' ' -f1)" "$want"
  expect "restored volume keeps the name it was given" "$(as_demo "${O[@]}" volume show "$restored" -f json | jq -r .name)" "restored-$tag"
  expect "restored volume property" "$(property_of "$(as_demo "${O[@]}" volume show "$restored" -f json)" purpose)" ci

  log "restore without a name: the backup's volume metadata comes back (name, description, properties)"
  local auto
  auto=$(as_demo "${C[@]}" backup-restore "$full" | table_json | jq -r .volume_id)
  [ -n "$auto" ] && [ "$auto" != null ] || fail "backup-restore named no volume"
  wait_for "restored volume $auto" volume_is "$auto" available
  shown=$(as_demo "${O[@]}" volume show "$auto" -f json)
  expect "auto-named restore takes the original name" "$(jq -r .name <<<"$shown")" "vol-$tag"
  expect "auto-named restore takes the original description" "$(jq -r .description <<<"$shown")" "client check"
  expect "auto-named restore property" "$(property_of "$shown" purpose)" ci
  expect "auto-named restore is not bootable (no image metadata)" "$(jq -r .bootable <<<"$shown")" false
  as_demo "${O[@]}" volume delete "$auto"
  wait_for "volume $auto to be deleted" volume_gone "$auto"

  log "reset a state as admin, then force-delete"
  as_admin "${C[@]}" reset-state --state error "$restored"
  expect "status after reset-state" "$(as_demo "${O[@]}" volume show "$restored" -f json | jq -r .status)" error
  as_admin "${O[@]}" volume backup set --state error "$spare"
  expect "backup status after reset" "$(as_admin "${O[@]}" volume backup show "$spare" -f json | jq -r .status)" error
  if as_demo "${C[@]}" force-delete "$restored" >"$WORK/out" 2>&1; then fail "a tenant could force-delete"; fi
  grep -q 'HTTP 403' "$WORK/out" || fail "tenant force-delete: $(cat "$WORK/out")"
  as_admin "${C[@]}" force-delete "$restored"
  wait_for "volume $restored to be force-deleted" volume_gone "$restored"

  log "quotas and usage"
  local usage
  usage=$(as_demo "${C[@]}" quota-usage "$DEMO_PROJECT" | table_json)
  expect "backups in use" "$(jq -r '.[] | select(.Type == "backups") | .In_use' <<<"$usage")" 2
  expect "volumes in use" "$(jq -r '.[] | select(.Type == "volumes") | .In_use' <<<"$usage")" 1
  expect "backups limit" "$(as_demo "${C[@]}" quota-show "$DEMO_PROJECT" | table_json | jq -r .backups)" 10
  expect "absolute limit maxTotalBackups" "$(as_demo "${C[@]}" absolute-limits | table_json | jq -r '.[] | select(.Name == "maxTotalBackups") | .Value')" 10
  if as_admin "${C[@]}" quota-update --volumes 0 "$DEMO_PROJECT" >"$WORK/out" 2>&1; then fail "a quota below usage was accepted"; fi
  grep -q 'must be equal or greater than existing resources' "$WORK/out" || fail "quota below usage: $(cat "$WORK/out")"
  expect "volumes limit unchanged" "$(as_demo "${C[@]}" quota-show "$DEMO_PROJECT" | table_json | jq -r .volumes)" 10

  log "services"
  local services
  services=$(as_admin "${O[@]}" volume service list -f json)
  expect "backup service state" "$(jq -r '[.[] | select(.Binary == "cinder-backup")][0].State' <<<"$services")" up
  expect "volume service status" "$(jq -r '[.[] | select(.Binary == "cinder-volume")][0].Status' <<<"$services")" enabled
  expect "services filtered by binary" "$(as_admin "${O[@]}" volume service list --service cinder-backup -f json | jq -r 'map(.Binary) | unique | join(",")')" cinder-backup

  log "delete"
  as_demo "${O[@]}" volume backup delete "$incr"
  wait_for "backup $incr to be deleted" backup_gone "$incr"
  as_demo "${O[@]}" volume backup delete "$full"
  as_admin "${O[@]}" volume backup delete "$spare"
  as_demo "${O[@]}" volume delete "$vol"
  wait_for "volume $vol to be deleted" volume_gone "$vol"
  wait_for "backup $full to be deleted" backup_gone "$full"
  wait_for "backup $spare to be deleted" backup_gone "$spare"
  log "flow at $label passed"
}

attachments() { # Cinder's attach flow (3.27+, os-complete 3.44+) through `cinder attachment-*`
  local -a C=("$CINDER" --os-volume-api-version 3.44)
  local vol server att shown
  log "── attachments at 3.44 ──"
  vol=$(as_demo "$OPENSTACK" volume create --size 1 "attach-$RANDOM" -f json | jq -r .id)
  wait_for "volume $vol to be available" volume_is "$vol" available
  server=$("$PY" -c 'import uuid; print(uuid.uuid4())')

  log "reserve without a connector, then delete the reservation"
  att=$(as_demo "${C[@]}" attachment-create "$vol" "$server" | table_json | jq -r .id)
  [ -n "$att" ] && [ "$att" != null ] || fail "attachment-create named no attachment"
  expect "volume status after reserve" "$(as_demo "$OPENSTACK" volume show "$vol" -f json | jq -r .status)" reserved
  expect "attachment-show status" "$(as_demo "${C[@]}" attachment-show "$att" | table_json | jq -r .status)" reserved
  as_demo "${C[@]}" attachment-delete "$att"
  expect "volume status after deleting the reservation" "$(as_demo "$OPENSTACK" volume show "$vol" -f json | jq -r .status)" available

  log "attach with a connector, complete, list, detach"
  shown=$(as_demo "${C[@]}" attachment-create --connect True --host compute-1 --mountpoint /dev/vdb "$vol" "$server" | table_json)
  att=$(jq -r .id <<<"$shown")
  expect "attachment status after connecting" "$(jq -r .status <<<"$shown")" attaching
  expect "connection info's driver_volume_type" "$(jq -r .driver_volume_type <<<"$shown")" local
  expect "volume status while attaching" "$(as_demo "$OPENSTACK" volume show "$vol" -f json | jq -r .status)" attaching
  as_demo "${C[@]}" attachment-complete "$att"
  expect "volume status after attachment-complete" "$(as_demo "$OPENSTACK" volume show "$vol" -f json | jq -r .status)" in-use
  expect "attachment-show after complete" "$(as_demo "${C[@]}" attachment-show "$att" | table_json | jq -r .status)" attached
  expect "attachment-list of the volume" \
    "$(as_demo "${C[@]}" attachment-list --volume-id "$vol" | table_json | jq -r 'map(.ID + "/" + .Status + "/" + .["Server ID"]) | join(",")')" \
    "$att/attached/$server"
  as_demo "${C[@]}" attachment-delete "$att"
  expect "volume status after attachment-delete" "$(as_demo "$OPENSTACK" volume show "$vol" -f json | jq -r .status)" available
  expect "attachments left" "$(as_demo "${C[@]}" attachment-list --volume-id "$vol" | table_json | jq -r length)" 0

  as_demo "$OPENSTACK" volume delete "$vol"
  wait_for "volume $vol to be deleted" volume_gone "$vol"
  log "attachments passed"
}

flow latest
flow 3.0
attachments

log "the default quota class (admin): show, update, and what new limits come from"
QC=$(as_admin "$CINDER" quota-class-show default | table_json)
expect "default class volumes" "$(jq -r .volumes <<<"$QC")" 10
expect "default class groups" "$(jq -r .groups <<<"$QC")" 10
expect "default class per-type volumes" "$(jq -r .volumes___DEFAULT__ <<<"$QC")" -1
as_admin "$CINDER" quota-class-update --volumes 12 default >/dev/null
expect "default class volumes after update" "$(as_admin "$CINDER" quota-class-show default | table_json | jq -r .volumes)" 12
expect "project defaults follow the class" "$(as_admin "$CINDER" quota-defaults "$DEMO_PROJECT" | table_json | jq -r .volumes)" 12
if as_demo "$CINDER" quota-class-update --volumes 50 default >"$WORK/out" 2>&1; then fail "a tenant updated the default quota class"; fi
grep -q 'HTTP 403' "$WORK/out" || fail "tenant quota-class-update: $(cat "$WORK/out")"
as_admin "$CINDER" quota-class-update --volumes 10 default >/dev/null
expect "default class volumes restored" "$(as_admin "$CINDER" quota-class-show default | table_json | jq -r .volumes)" 10

log "disable and enable a service (admin)"
HOST=$(as_admin "$OPENSTACK" volume service list --service cinder-backup -f json | jq -r '.[0].Host')
as_admin "$OPENSTACK" volume service set --disable --disable-reason "client check" "$HOST" cinder-backup
expect "disabled reason" "$(as_admin "$OPENSTACK" volume service list --service cinder-backup --long -f json | jq -r '.[0]["Disabled Reason"]')" "client check"
as_admin "$OPENSTACK" volume service set --enable "$HOST" cinder-backup
expect "enabled again" "$(as_admin "$OPENSTACK" volume service list --service cinder-backup -f json | jq -r '.[0].Status')" enabled
if as_admin "$OPENSTACK" volume service set --enable no-such-host cinder-backup >"$WORK/out" 2>&1; then fail "a missing service was enabled"; fi

log "all client checks passed"
