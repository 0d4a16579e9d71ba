"""``scripts/install-server`` in a root filesystem of each supported system.

Run by ``scripts/test-deploy``: ``CER_DEPLOY_ROOT`` names a fresh copy of a cached root
(Debian 12, Debian 13 or Ubuntu 24.04; ``CER_DEPLOY_SYSTEM`` names it) with the checkout at
/work/repo and PostgreSQL started in it (``pg_ctlcluster``); without it these tests are
skipped. The script runs with ``--no-start`` (no systemd in a chroot): first a dry run that
must change nothing, then the install, then checks of what it made, then a second run that
must change nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cer_backend.models import Base
from tests.support.net import free_port

ROOT = os.environ.get("CER_DEPLOY_ROOT", "")
#: a folder of wheels in the root: the installer's pip runs offline from it
WHEELS = os.environ.get("CER_DEPLOY_WHEELS", "")
pytestmark = pytest.mark.skipif(not ROOT, reason="run by scripts/test-deploy (needs root)")

INSTALL = [
    "/work/repo/scripts/install-server",
    "--no-start",
    "--host",
    "cer.example.org",
    "--email",
    "tecnico@example.org",
]
#: what the installer owns (the state a second run must leave byte for byte as it was)
WATCHED = [
    "/etc/cer-backend",
    "/etc/systemd/system",
    "/etc/caddy",
    "/opt/cer-backend",
    "/usr/local/sbin",
    "/var/lib/cer-backend",
]
UNITS = [
    "cer-backend.service",
    "cer-backend-backup.service",
    "cer-backend-backup.timer",
    "cer-backend-prices.service",
    "cer-backend-prices.timer",
]
#: the tables the schema of this checkout has (the installer migrated to it)
TABLES = {*Base.metadata.tables, "alembic_version"}


def chroot(
    *command: str, check: bool = True, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command in the root with a clean environment."""
    if user is not None:
        command = ("runuser", "-u", user, "--", *command)
    done = subprocess.run(
        [
            "chroot",
            ROOT,
            "/usr/bin/env",
            "-i",
            "HOME=/root",
            "LANG=C.UTF-8",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
            "PIP_DISABLE_PIP_VERSION_CHECK=1",
            "PIP_DEFAULT_TIMEOUT=180",
            *([f"PIP_FIND_LINKS={WHEELS}", "PIP_NO_INDEX=1"] if WHEELS else []),
            *command,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert done.returncode == 0, f"{shlex.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done


def psql(sql: str, database: str = "cer") -> str:
    port = os.environ["CER_DEPLOY_PG_PORT"]
    done = chroot(
        "psql",
        "-X",
        "-tA",
        "-h",
        "/var/run/postgresql",
        "-p",
        port,
        "-d",
        database,
        "-c",
        sql,
        user="postgres",
    )
    return done.stdout.strip()


def snapshot() -> dict[str, str]:
    """Path → mode, owner and content hash of every watched file, and the database's rights."""
    state: dict[str, str] = {}
    for top in WATCHED:
        base = Path(ROOT + top)
        for path in sorted([base, *base.rglob("*")]) if base.exists() else []:
            if "__pycache__" in path.parts:
                continue
            stat = path.lstat()
            digest = ""
            if path.is_symlink():
                digest = str(path.readlink())
            elif path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path)[len(ROOT) :]] = f"{stat.st_mode:o} {stat.st_uid}:{stat.st_gid} {digest}"
    state["pg:roles"] = psql(
        "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolreplication,"
        " rolbypassrls, rolpassword IS NOT NULL FROM pg_authid WHERE rolname NOT LIKE 'pg_%'"
        " ORDER BY 1",
        "postgres",
    )
    state["pg:database"] = psql("SELECT datacl FROM pg_database WHERE datname = 'cer'", "postgres")
    if psql("SELECT count(*) FROM pg_database WHERE datname = 'cer'", "postgres") == "0":
        return state
    state["pg:acl"] = psql(
        "SELECT relname, relacl FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " ORDER BY 1"
    )
    state["pg:schema"] = psql("SELECT nspacl FROM pg_namespace WHERE nspname = 'public'")
    state["pg:default"] = psql("SELECT defaclacl::text FROM pg_default_acl ORDER BY 1")
    return state


@dataclass
class Runs:
    """The outputs and timings of the runs of the installer."""

    dry_run: subprocess.CompletedProcess[str]
    first: subprocess.CompletedProcess[str]
    first_seconds: float
    before_dry_run: dict[str, str]
    after_dry_run: dict[str, str]


@pytest.fixture(scope="module")
def runs() -> Iterator[Runs]:
    before = snapshot()
    dry = chroot(*INSTALL, "--dry-run")
    after = snapshot()
    started = time.monotonic()
    first = chroot(*INSTALL, check=False)
    seconds = time.monotonic() - started
    print(f"\nfirst run of install-server: {seconds:.1f} s")
    yield Runs(dry, first, seconds, before, after)


def test_a_dry_run_prints_every_action_and_changes_nothing(runs: Runs) -> None:
    assert runs.after_dry_run == runs.before_dry_run
    out = runs.dry_run.stdout
    for action in (
        "would: create system user cer-backend",
        "would: create the virtual environment /opt/cer-backend/venv",
        "would: create role cer-backend",
        "would: create role cer_grafana",
        "would: create database cer",
        "would: write /etc/cer-backend/env (mode 0600, root:root)",
        "would: write /etc/systemd/system/cer-backend.service",
        "would: write /etc/caddy/Caddyfile",
        "would: enable cer-backend.service",
    ):
        assert action in out, action


def test_the_install_completes(runs: Runs) -> None:
    assert runs.first.returncode == 0, runs.first.stdout + runs.first.stderr
    assert "Done: " in runs.first.stdout


def test_the_units_pass_systemd_analyze_verify(runs: Runs) -> None:
    paths = [f"/etc/systemd/system/{unit}" for unit in UNITS]
    done = chroot("systemd-analyze", "verify", *paths, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cer-backend" not in done.stderr, done.stderr  # no warning about our units
    unit = Path(ROOT + "/etc/systemd/system/cer-backend.service").read_text()
    assert "serve --host 127.0.0.1 " in unit  # the backend never listens outside
    assert "User=cer-backend" in unit
    enabled = Path(ROOT + "/etc/systemd/system/multi-user.target.wants/cer-backend.service")
    assert enabled.is_symlink()
    timers = Path(ROOT + "/etc/systemd/system/timers.target.wants")
    assert (timers / "cer-backend-backup.timer").is_symlink()


def test_the_caddyfile_is_valid(runs: Runs) -> None:
    done = chroot(
        "caddy",
        "validate",
        "--config",
        "/etc/caddy/Caddyfile",
        "--adapter",
        "caddyfile",
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    caddyfile = Path(ROOT + "/etc/caddy/Caddyfile").read_text()
    assert "cer.example.org {" in caddyfile
    assert "email tecnico@example.org" in caddyfile
    assert "reverse_proxy 127.0.0.1:8080" in caddyfile
    assert Path(ROOT + "/etc/caddy/Caddyfile.before-cer-backend").exists()


def test_the_settings_are_private(runs: Runs) -> None:
    env = Path(ROOT + "/etc/cer-backend/env")
    assert env.stat().st_mode & 0o777 == 0o600
    assert (env.stat().st_uid, env.stat().st_gid) == (0, 0)
    text = env.read_text()
    assert "CER_DATABASE_URL=postgresql:///cer?host=/var/run/postgresql" in text
    token = next(line for line in text.splitlines() if line.startswith("CER_METRICS_TOKEN="))
    assert len(token.split("=", 1)[1]) == 64
    assert Path(ROOT + "/etc/cer-backend/grafana-password").stat().st_mode & 0o777 == 0o600


def test_the_roles_have_exactly_the_documented_rights(runs: Runs) -> None:
    # the owner: logs in by peer authentication, no superuser or other power
    assert psql(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin"
        " FROM pg_roles WHERE rolname IN ('cer-backend', 'cer_grafana') ORDER BY rolname",
        "postgres",
    ).splitlines() == ["f|f|f|f|f|t", "f|f|f|f|f|t"]
    assert psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'cer'") == (
        "cer-backend"
    )
    tables = psql(
        "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    ).splitlines()
    assert {line.split("|")[0] for line in tables} == TABLES
    assert {line.split("|")[1] for line in tables} == {"cer-backend"}
    # the reader: SELECT on every table but tokens, nothing else
    rights = psql(
        "SELECT tablename, has_table_privilege('cer_grafana', 'public.' || tablename, 'SELECT'),"
        " has_table_privilege('cer_grafana', 'public.' || tablename,"
        " 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')"
        " FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    ).splitlines()
    for line in rights:
        name, select, write = line.split("|")
        assert (select, write) == ("f" if name == "tokens" else "t", "f"), line
    assert psql("SELECT has_schema_privilege('cer_grafana', 'public', 'CREATE')") == "f"
    assert psql("SELECT has_database_privilege('cer_grafana', 'cer', 'CREATE, TEMP')") == "f"
    assert psql("SELECT has_database_privilege('public', 'cer', 'CONNECT')") == "f"
    # the reader really logs in over TCP with its password, reads, and may not write
    password = Path(ROOT + "/etc/cer-backend/grafana-password").read_text().strip()
    port = os.environ["CER_DEPLOY_PG_PORT"]
    url = f"postgresql://cer_grafana:{password}@127.0.0.1:{port}/cer"
    counted = chroot("psql", "-X", "-tA", url, "-c", "SELECT count(*) FROM readings")
    assert counted.stdout.strip() == "0"
    for sql in (
        "INSERT INTO alerts (community_id, kind, message) VALUES ('x', 'y', 'z')",
        "SELECT * FROM tokens",
        "CREATE TABLE mine (x int)",
    ):
        denied = chroot("psql", "-X", "-tA", url, "-c", sql, check=False)
        assert denied.returncode != 0 and "permission denied" in denied.stderr, sql


def test_the_service_user_runs_the_backend_and_its_backup(runs: Runs) -> None:
    assert "up to date" in chroot("cer-backend", "migrate", "--check").stdout
    token = chroot("cer-backend", "token", "create", "--role", "admin").stdout.splitlines()[-1]
    assert token.startswith("cer_")
    # the backup timer's command, as the unit runs it
    unit = Path(ROOT + "/etc/systemd/system/cer-backend-backup.service").read_text()
    command = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    done = chroot("cer-backend", *shlex.split(command.split("/bin/cer-backend ", 1)[1]))
    path = Path(ROOT + done.stdout.splitlines()[-1])
    assert path.name.endswith(".pgdump")
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_service_serves_health_and_metrics_on_loopback(runs: Runs) -> None:
    """``serve`` as the unit runs it (service user, settings file), on a free port."""
    env = Path(ROOT + "/etc/cer-backend/env").read_text()
    metrics_token = next(
        line.split("=", 1)[1] for line in env.splitlines() if line.startswith("CER_METRICS_")
    )
    port = free_port()
    server = subprocess.Popen(
        [
            "chroot", ROOT, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "/usr/local/sbin/cer-backend", "serve", "--host", "127.0.0.1", "--port", str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        health = None
        for _ in range(60):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/health", timeout=2
                ) as answer:
                    health = json.load(answer)
                break
            except OSError:
                time.sleep(0.5)
        assert health is not None and health["status"] == "ok", health
        assert health["database"] == "postgresql"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": f"Bearer {metrics_token}"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            text = answer.read().decode()
        assert "cer_database_up 1.0" in text
        assert 'cer_http_requests_total{method="GET",route="/api/v1/health",status="200"}' in text
        listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
        local = [line.split()[1] for line in listening if line.split()[3] == "0A"]
        assert f"0100007F:{port:04X}" in local  # 127.0.0.1 only, never 0.0.0.0
        assert f"00000000:{port:04X}" not in local
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_a_second_run_changes_nothing(runs: Runs) -> None:
    assert runs.first.returncode == 0
    before = snapshot()
    started = time.monotonic()
    second = chroot(*INSTALL)
    print(f"\nsecond run of install-server: {time.monotonic() - started:.1f} s")
    assert "Done: 0 changes" in second.stdout, second.stdout
    after = snapshot()
    assert after == before


def test_nginx_with_the_administrations_certificate(runs: Runs) -> None:
    assert runs.first.returncode == 0
    chroot("install", "-d", "-m", "0750", "/etc/cer-backend/tls")
    chroot(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=cer.example.org",
        "-keyout", "/etc/cer-backend/tls/privkey.pem",
        "-out", "/etc/cer-backend/tls/fullchain.pem",
    )  # fmt: skip
    chroot(*INSTALL, "--proxy", "nginx")
    tested = chroot("nginx", "-t", check=False)
    assert tested.returncode == 0, tested.stderr
    site = Path(ROOT + "/etc/nginx/sites-available/cer-backend").read_text()
    assert "server_name cer.example.org;" in site
    assert "proxy_pass http://127.0.0.1:8080;" in site
    assert "location = /metrics { return 404; }" in site
    assert Path(ROOT + "/etc/nginx/sites-enabled/cer-backend").is_symlink()
    assert not Path(ROOT + "/etc/nginx/sites-enabled/default").exists()
    again = chroot(*INSTALL, "--proxy", "nginx")
    assert "Done: 0 changes" in again.stdout, again.stdout


def test_a_new_checkout_is_installed_over_the_old_one(runs: Runs) -> None:
    """An upgrade: other code with the same version number replaces the installed package."""
    assert runs.first.returncode == 0
    Path(ROOT + "/opt/cer-backend/.installed-from").write_text("an older checkout\n")
    upgraded = chroot(*INSTALL)
    assert "changed: replace the installed cer-backend" in upgraded.stdout, upgraded.stdout
    assert "up to date" in chroot("cer-backend", "migrate", "--check").stdout
    assert "Done: 0 changes" in chroot(*INSTALL).stdout


def test_a_wheel_is_installed_instead_of_the_checkout(runs: Runs) -> None:
    """``--wheel FILE``: the backend from a built wheel (a release), then idempotent."""
    assert runs.first.returncode == 0
    missing = chroot(*INSTALL, "--wheel", "/root/dist/none.whl", check=False)
    assert missing.returncode != 0
    assert "no wheel at /root/dist/none.whl" in missing.stdout + missing.stderr
    # a release's wheel, built the way a maintainer would (from a copy: the checkout is
    # read-only), with the installed venv's pip and the wheels folder's setuptools
    chroot(
        "sh", "-ec",
        "rm -rf /tmp/source /root/dist && mkdir -p /tmp/source /root/dist"
        " && cd /work/repo && cp -r pyproject.toml README.md LICENSE backend /tmp/source/"
        " && /opt/cer-backend/venv/bin/pip wheel -q --no-deps -w /root/dist /tmp/source",
    )  # fmt: skip
    wheel = next(Path(ROOT + "/root/dist").glob("cer_backend-*.whl"))
    path = f"/root/dist/{wheel.name}"
    installed = chroot(*INSTALL, "--wheel", path)
    assert f"Backend in /opt/cer-backend/venv ({path})" in installed.stdout, installed.stdout
    assert f"changed: install {wheel.name}" in installed.stdout, installed.stdout
    assert "up to date" in chroot("cer-backend", "migrate", "--check").stdout
    assert "Done: 0 changes" in chroot(*INSTALL, "--wheel", path).stdout
