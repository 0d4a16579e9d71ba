# shellcheck shell=bash
# Shared helpers of the project's scripts: each ensure_* is idempotent and cached under
# $CER_CACHE_DIR (default: .cache in the repository, ignored by git).

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${CER_CACHE_DIR:-$REPO_ROOT/.cache}"
mkdir -p "$CACHE_DIR"

# Pinned test environments (see README, "Development").
HA_FLOOR_REQUIREMENTS="pytest-homeassistant-custom-component==0.13.109 pymodbus==3.6.6 mypy==1.15.0 pyserial"
HA_CURRENT_REQUIREMENTS="pytest-homeassistant-custom-component==0.13.375 pymodbus pyserial"
BACKEND_VENV="$CACHE_DIR/venv-backend"
HA_FLOOR_VENV="$CACHE_DIR/ha-floor"
HA_CURRENT_DIR="$CACHE_DIR/ha-current"
SID_ROOT="$HA_CURRENT_DIR/root"
SID_MIRROR="${CER_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE="${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# as_root CMD...: run as root (directly, or through sudo when not root).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  log "Installing Debian packages: $*"
  if [ ! -f "$CACHE_DIR/.apt-updated" ]; then
    as_root apt-get update -qq
    touch "$CACHE_DIR/.apt-updated"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# stamp_ok FILE CONTENT: whether FILE holds CONTENT (the inputs an environment was built from).
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# The backend venv: Python >= 3.11 with the backend and its dev tools, editable.
ensure_backend_env() {
  local stamp="$BACKEND_VENV/.cer-stamp" want
  want="$(python3 --version) $(sha256sum "$REPO_ROOT/pyproject.toml" | cut -c1-16)"
  if stamp_ok "$stamp" "$want"; then return; fi
  log "Creating the backend environment in $BACKEND_VENV"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python >= 3.11 is needed"
  [ -x "$BACKEND_VENV/bin/python" ] || python3 -m venv "$BACKEND_VENV"
  "$BACKEND_VENV/bin/pip" install -q --upgrade pip
  "$BACKEND_VENV/bin/pip" install -q -e "$REPO_ROOT[dev]"
  echo "$want" > "$stamp"
}

# HA 2024.3.3 on this machine's Python 3.11.
ensure_ha_floor_env() {
  local stamp="$HA_FLOOR_VENV/.cer-stamp"
  if stamp_ok "$stamp" "$HA_FLOOR_REQUIREMENTS"; then return; fi
  log "Creating the Home Assistant 2024.3 environment in $HA_FLOOR_VENV (about 2.5 minutes)"
  python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "the HA 2024.3 environment needs Python 3.11 as python3"
  [ -x "$HA_FLOOR_VENV/bin/python" ] || python3 -m venv "$HA_FLOOR_VENV"
  # shellcheck disable=SC2086
  "$HA_FLOOR_VENV/bin/pip" install -q $HA_FLOOR_REQUIREMENTS
  echo "$HA_FLOOR_REQUIREMENTS" > "$stamp"
}

# HA 2026.10.4 on Python 3.14: python3.14 of this machine if it has one, otherwise a Debian
# sid root filesystem (debootstrap) used with chroot. Sets HA_CURRENT_MODE to native|chroot.
ensure_ha_current_env() {
  if command -v python3.14 >/dev/null 2>&1; then
    HA_CURRENT_MODE=native
    local venv="$HA_CURRENT_DIR/venv" stamp="$HA_CURRENT_DIR/venv/.cer-stamp"
    if stamp_ok "$stamp" "$HA_CURRENT_REQUIREMENTS"; then return; fi
    log "Creating the Home Assistant 2026.10 environment with the machine's python3.14"
    [ -x "$venv/bin/python" ] || python3.14 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install -q $HA_CURRENT_REQUIREMENTS
    echo "$HA_CURRENT_REQUIREMENTS" > "$stamp"
    return
  fi
  HA_CURRENT_MODE=chroot
  local stamp="$SID_ROOT/opt/venv/.cer-stamp"
  if stamp_ok "$stamp" "$HA_CURRENT_REQUIREMENTS"; then return; fi
  if [ ! -x "$SID_ROOT/usr/bin/python3.14" ]; then
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    log "Building a Debian sid root filesystem with Python 3.14 in $SID_ROOT (about 30 s)"
    mkdir -p "$HA_CURRENT_DIR"
    as_root rm -rf "$SID_ROOT.partial"
    as_root debootstrap --variant=minbase \
      --include=python3.14,python3.14-venv,ca-certificates sid "$SID_ROOT.partial" "$SID_MIRROR" \
      >"$HA_CURRENT_DIR/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $HA_CURRENT_DIR/debootstrap.log"
    as_root rm -rf "$SID_ROOT"
    as_root mv "$SID_ROOT.partial" "$SID_ROOT"
  fi
  sid_copy_host_files
  log "Installing Home Assistant 2026.10 into the sid root filesystem (about 70 s)"
  [ -x "$SID_ROOT/opt/venv/bin/python" ] || as_root chroot "$SID_ROOT" python3.14 -m venv /opt/venv
  # shellcheck disable=SC2086
  sid_chroot /opt/venv/bin/pip install -q $HA_CURRENT_REQUIREMENTS
  echo "$HA_CURRENT_REQUIREMENTS" | as_root tee "$stamp" >/dev/null
}

# Name resolution and the registry's CA bundle, refreshed at every use (they may change).
sid_copy_host_files() {
  as_root cp /etc/resolv.conf /etc/hosts "$SID_ROOT/etc/"
  if [ -f "$CA_BUNDLE" ]; then
    as_root cp "$CA_BUNDLE" "$SID_ROOT/etc/ssl/certs/ca-certificates.crt"
  fi
}

# sid_chroot CMD...: run CMD inside the sid root with a clean environment. With SID_EXEC=1
# the calling (sub)shell is replaced, so that its pid is the command's.
sid_chroot() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  ${SID_EXEC:+exec} "${sudo[@]}" chroot "$SID_ROOT" /usr/bin/env -i \
    HOME=/root LANG=C.UTF-8 TZ=UTC \
    PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
    ${CER_TEST_DATABASE_URL:+CER_TEST_DATABASE_URL="$CER_TEST_DATABASE_URL"} \
    "$@"
}

# sid_lock: one user of the sid root at a time (the bind mount and /proc are shared by every
# run on this machine, and scripts/develop holds them while Home Assistant runs).
sid_lock() {
  exec 9>"$HA_CURRENT_DIR/.lock"
  if ! flock -n 9; then
    log "Waiting for another run that uses the sid root (scripts/develop or a test run)"
    flock 9
  fi
}

# sid_mount / sid_umount: the repository at /work/repo and /proc inside the sid root.
SID_MOUNTED=0
sid_mount() {
  sid_copy_host_files
  as_root mkdir -p "$SID_ROOT/work/repo"
  mountpoint -q "$SID_ROOT/proc" || as_root mount -t proc proc "$SID_ROOT/proc"
  # pseudo-terminals: the serial RTU tests join two of them as an RS-485 line
  mountpoint -q "$SID_ROOT/dev/pts" || as_root mount --bind /dev/pts "$SID_ROOT/dev/pts"
  mountpoint -q "$SID_ROOT/work/repo" || as_root mount --bind "$REPO_ROOT" "$SID_ROOT/work/repo"
  SID_MOUNTED=1
}
sid_umount() {
  [ "$SID_MOUNTED" -eq 1 ] || return 0
  mountpoint -q "$SID_ROOT/work/repo" && as_root umount "$SID_ROOT/work/repo"
  mountpoint -q "$SID_ROOT/proc" && as_root umount "$SID_ROOT/proc"
  mountpoint -q "$SID_ROOT/dev/pts" && as_root umount "$SID_ROOT/dev/pts"
  SID_MOUNTED=0
}

# The repository's path as Home Assistant 2026.10 sees it (set by ha_current_paths).
HA_REPO="$REPO_ROOT"
# ha_current_paths: HA_REPO for the mode of ensure_ha_current_env (in chroot mode the
# repository is bind-mounted at /work/repo by sid_mount).
ha_current_paths() {
  if [ "$HA_CURRENT_MODE" = chroot ]; then HA_REPO=/work/repo; else HA_REPO="$REPO_ROOT"; fi
}

# ha_current_voice: in the sid root, build assist_pipeline's requirements once (call it under
# sid_lock). Home Assistant 2026.10 always sets up assist_satellite (a base platform), hence
# assist_pipeline, whose requirements pymicro-vad and pyspeex-noise have no wheel for Python
# 3.14: at first start it tried to build them without a compiler, failed, and every
# get_services call failed with it (the frontend never loaded). They are built here, at the
# versions that Home Assistant's own manifest pins.
ha_current_voice() {
  [ "$HA_CURRENT_MODE" = chroot ] || return 0
  local stamp="$SID_ROOT/opt/venv/.cer-develop-stamp" requirements
  local manifest=/opt/venv/lib/python3.14/site-packages/homeassistant/components/assist_pipeline/manifest.json
  requirements="$(sid_chroot /opt/venv/bin/python -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["requirements"]))' "$manifest")"
  if stamp_ok "$stamp" "$requirements"; then return; fi
  log "Building $requirements for Python 3.14 in the sid root (a C++ compiler first)"
  sid_chroot /usr/bin/env DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get -qq -o Acquire::Check-Valid-Until=false update;
      apt-get install -y -qq --no-install-recommends g++ python3.14-dev' \
    >/dev/null || die "could not install g++ and python3.14-dev in the sid root"
  # shellcheck disable=SC2086
  sid_chroot /opt/venv/bin/pip install -q $requirements || die "could not build $requirements"
  echo "$requirements" | as_root tee "$stamp" >/dev/null
}

# ha_current_run PROGRAM ARGS...: a program of the Home Assistant 2026.10 environment (hass,
# python) with the repository on PYTHONPATH, on this machine or in the sid root (mounted by
# sid_mount: paths are as Home Assistant sees them, see HA_REPO). With SID_EXEC=1 the calling
# (sub)shell is replaced, so that a background job's pid is the program's.
ha_current_run() {
  local program="$1"
  shift
  if [ "$HA_CURRENT_MODE" = native ]; then
    ${SID_EXEC:+exec} env PYTHONPATH="$REPO_ROOT" "$HA_CURRENT_DIR/venv/bin/$program" "$@"
  else
    sid_chroot /usr/bin/env PYTHONPATH=/work/repo SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
      "/opt/venv/bin/$program" "$@"
  fi
}

# Debian's chromium and chromium-driver for the browser tests of the web pages.
ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    apt_install chromium chromium-driver
  fi
}

# PostgreSQL: start the machine's cluster when it is down (installing the Debian package when
# absent), make a role for this run and throw-away databases. The role is no superuser (it
# owns its test databases, nothing else), has a random password made for this run, and is
# dropped by pg_drop_role (the scripts call it on exit).
PG_ROLE="cer_test_$(date +%s)_$$"
PG_PASSWORD="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ensure_postgres() {
  if ! command -v pg_lsclusters >/dev/null 2>&1; then
    apt_install postgresql
  fi
  local version cluster status
  read -r version cluster status < <(pg_lsclusters --no-header | awk 'NR==1 {print $1, $2, $4}') || true
  if [ -z "${version:-}" ]; then
    version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
    log "Creating PostgreSQL cluster $version/main"
    as_root pg_createcluster "$version" main >/dev/null
    cluster=main
    status=down
  fi
  if [ "$status" != "online" ]; then
    log "Starting PostgreSQL $version/$cluster"
    as_root pg_ctlcluster "$version" "$cluster" start
  fi
  PG_PORT="$(pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $3}')"
  local i
  for i in $(seq 1 30); do
    pg_psql -c 'SELECT 1' >/dev/null 2>&1 && break
    sleep 1
  done
  pg_psql -tAc "SELECT 1 FROM pg_roles WHERE rolname='$PG_ROLE'" | grep -q 1 \
    || pg_psql -c "CREATE ROLE $PG_ROLE LOGIN NOSUPERUSER NOCREATEROLE CREATEDB PASSWORD '$PG_PASSWORD'" \
      >/dev/null
}

# pg_drop_role: drop this run's role (after its databases; nothing else is owned by it).
pg_drop_role() {
  local db
  # a database a test left behind (killed half-way) would keep the role alive
  for db in $(pg_psql -tAc "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = '$PG_ROLE'" 2>/dev/null); do
    pg_psql -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  pg_psql -c "DROP ROLE IF EXISTS $PG_ROLE" >/dev/null 2>&1 || true
}

pg_psql() {
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -c "psql -X -q -p ${PG_PORT:-5432} $(printf '%q ' "$@")"
  else
    sudo -u postgres psql -X -q -p "${PG_PORT:-5432}" "$@"
  fi
}

# pg_create_test_db: a new database; sets PG_TEST_DB and CER_TEST_DATABASE_URL.
pg_create_test_db() {
  PG_TEST_DB="cer_test_$(date +%s)_$$"
  pg_psql -c "CREATE DATABASE $PG_TEST_DB OWNER $PG_ROLE" >/dev/null
  export CER_TEST_DATABASE_URL="postgresql+psycopg://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_TEST_DB"
}

pg_drop_test_db() {
  [ -n "${PG_TEST_DB:-}" ] || return 0
  pg_psql -c "DROP DATABASE IF EXISTS $PG_TEST_DB WITH (FORCE)" >/dev/null || true
  PG_TEST_DB=
}

# run_pytest LABEL CMD...: run CMD (a pytest command) under a heading, with exit code 5 (no test collected) as a failure
# that says so.
run_pytest() {
  local label="$1" rc=0
  shift
  log "Tests: $label"
  "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "error: $label: no test was collected" >&2
  fi
  return "$rc"
}
