"""What an upgrade would do to a database: the migrations it has not run yet."""

from __future__ import annotations

from dataclasses import dataclass

from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from ..migrate import alembic_config, current_revision


class UnknownRevision(Exception):
    """The database is at a revision this version does not ship (a newer backend wrote it)."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration: its revision id and the first line of its description."""

    revision: str
    title: str


async def pending_migrations(engine: AsyncEngine) -> tuple[str | None, list[Migration]]:
    """The database's revision and the migrations ``migrate`` would run, oldest first."""
    current = await current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    if current is not None and current not in known:
        raise UnknownRevision(
            f"the database is at revision {current}, which this version of cer-backend does "
            "not know (was it written by a newer version?)"
        )
    revisions = list(script.iterate_revisions("heads", current or "base"))
    pending = [
        Migration(r.revision, (r.doc or "").strip().splitlines()[0] if r.doc else "")
        for r in reversed(revisions)
        if r.revision != current
    ]
    return current, pending
