"""Issue #12, defect 11: the test scripts' PostgreSQL role is no superuser, has a password
made for the run, and is dropped at the end.

Before the fix ``scripts/lib.sh`` left a superuser ``cer_test`` with password ``cer_test`` on
the machine's cluster. The scripts' own functions run here in bash, on the machine's cluster
(as ``scripts/test-backend`` does).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

SCRIPT = r"""
source scripts/lib.sh
ensure_postgres >/dev/null
pg_create_test_db
echo "role=$PG_ROLE"
echo "password=$PG_PASSWORD"
echo "url=$CER_TEST_DATABASE_URL"
pg_psql -tAc "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname='$PG_ROLE'" \
  | sed 's/^/flags=/'
psql "${CER_TEST_DATABASE_URL/+psycopg/}" -tAc "CREATE TABLE t (x int); SELECT 'owner-ok'"
pg_drop_test_db
pg_drop_role
pg_psql -tAc "SELECT count(*) FROM pg_roles WHERE rolname='$PG_ROLE'" | sed 's/^/left=/'
"""


def run() -> dict[str, str]:
    result = subprocess.run(
        ["bash", "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    values = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition("=")
        values[key] = value
    values["out"] = result.stdout
    return values


@pytest.mark.database
@pytest.mark.postgresql_only
def test_the_test_role_is_no_superuser_has_a_fresh_password_and_is_dropped() -> None:
    first, second = run(), run()
    for values in (first, second):
        assert values["flags"] == "f|f", values["out"]
        assert "owner-ok" in values["out"]
        assert values["left"] == "0"
        assert values["password"] not in ("", "cer_test")
        assert len(values["password"]) >= 24
    assert first["password"] != second["password"]
    assert first["role"] != second["role"]
