"""Where the backend finds its database: the same resolution for every command."""

from pathlib import Path

from cer_backend.settings import resolve_database_url


def test_default_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    url = resolve_database_url(None, {"CER_DATA_DIR": str(tmp_path)})
    assert url == f"sqlite+aiosqlite:///{tmp_path}/cer-backend.sqlite3"


def test_environment_beats_default_and_option_beats_environment() -> None:
    env = {"CER_DATABASE_URL": "postgresql://u:p@db/cer"}
    assert resolve_database_url(None, env) == "postgresql+psycopg://u:p@db/cer"
    assert resolve_database_url("sqlite:///x.db", env) == "sqlite+aiosqlite:///x.db"


def test_explicit_driver_is_kept() -> None:
    assert resolve_database_url("postgresql+psycopg://u@h/d", {}) == "postgresql+psycopg://u@h/d"


def test_home_default_when_nothing_is_set() -> None:
    url = resolve_database_url(None, {})
    assert url.endswith(str(Path(".local/share/cer-backend/cer-backend.sqlite3")))
