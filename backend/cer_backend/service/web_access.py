"""Browser sessions and members' personal links (the web pages of issue #17).

A session is a random secret in an HTTP-only cookie; the database keeps its SHA-256, what it
may see (an admin token's id, or one member of one community), a CSRF token and the chosen
language. It ends when signed out, after ``IDLE_HOURS`` without a request, or (console) when
its token is revoked.

A member's link is a random secret usable once within ``LINK_DAYS``: using it is one
conditional UPDATE, so two browsers racing with the same link cannot both get a session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..models import Member, MemberLink, Token, WebSession, as_utc, utcnow

#: a session ends after this long without a request (server side)
IDLE_HOURS: Final = 8
#: a member's link works once, for this many days
LINK_DAYS: Final = 7
#: ``last_seen`` is written at most this often (a page view is not a write each time)
TOUCH_SECONDS: Final = 60
KINDS: Final = ("console", "member")


def link_url(base_url: str, secret: str) -> str:
    """The personal link a member opens (the web page ``/socio/accesso/{secret}``)."""
    return f"{base_url.rstrip('/')}/socio/accesso/{secret}"


class LinkError(ValueError):
    """A member link cannot be made (no such community or member)."""


@dataclass(frozen=True, slots=True)
class WebSessionView:
    """What a signed-in browser may see."""

    secret_hash: str
    kind: str
    community_id: str | None
    token_id: int | None
    member_id: str | None
    csrf: str
    language: str | None
    token_community: str | None = None  # the admin token's own community (None: global)

    @property
    def is_global_admin(self) -> bool:
        """A console session of an admin of every community."""
        return self.kind == "console" and self.token_community is None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def start_session(
    engine: AsyncEngine,
    kind: str,
    *,
    community_id: str | None,
    token_id: int | None = None,
    member_id: str | None = None,
    language: str | None = None,
) -> str:
    """Store a new session; returns the cookie's secret (not stored)."""
    if kind not in KINDS:
        raise ValueError(f"unknown session kind {kind!r}")
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    async with engine.begin() as connection:
        await connection.execute(
            insert(WebSession).values(
                session_hash=_hash(secret),
                kind=kind,
                community_id=community_id,
                token_id=token_id,
                member_id=member_id,
                csrf=secrets.token_urlsafe(24),
                language=language,
                created_at=now,
                last_seen=now,
            )
        )
    return secret


async def load_session(engine: AsyncEngine, secret: str) -> WebSessionView | None:
    """The live session of a cookie, touched; None when unknown, idle too long or revoked."""
    digest = _hash(secret)
    now = utcnow()
    async with engine.begin() as connection:
        row = (
            await connection.execute(select(WebSession).where(WebSession.session_hash == digest))
        ).first()
        if row is None:
            return None
        if as_utc(row.last_seen) + timedelta(hours=IDLE_HOURS) <= now:
            await connection.execute(delete(WebSession).where(WebSession.session_hash == digest))
            return None
        token_community: str | None = None
        if row.kind == "console":
            token = (
                await connection.execute(
                    select(Token.community_id, Token.role).where(
                        Token.token_id == row.token_id, Token.revoked_at.is_(None)
                    )
                )
            ).first()
            if token is None or token.role != "admin":
                await connection.execute(
                    delete(WebSession).where(WebSession.session_hash == digest)
                )
                return None
            token_community = token.community_id
        if (now - as_utc(row.last_seen)).total_seconds() >= TOUCH_SECONDS:
            await connection.execute(
                update(WebSession).where(WebSession.session_hash == digest).values(last_seen=now)
            )
    return WebSessionView(
        digest,
        row.kind,
        row.community_id,
        row.token_id,
        row.member_id,
        row.csrf,
        row.language,
        token_community,
    )


async def update_session(
    engine: AsyncEngine,
    session: WebSessionView,
    *,
    community_id: str | None = None,
    language: str | None = None,
) -> None:
    """Change the community a console looks at, or the language."""
    values: dict[str, str] = {}
    if community_id is not None:
        values["community_id"] = community_id
    if language is not None:
        values["language"] = language
    if not values:
        return
    async with engine.begin() as connection:
        await connection.execute(
            update(WebSession).where(WebSession.session_hash == session.secret_hash).values(values)
        )


async def end_session(engine: AsyncEngine, secret_hash: str) -> None:
    """Sign out: the session is deleted on the server."""
    async with engine.begin() as connection:
        await connection.execute(delete(WebSession).where(WebSession.session_hash == secret_hash))


async def create_member_link(
    engine: AsyncEngine, community_id: str, member_id: str, *, now: datetime | None = None
) -> str:
    """A new personal link's secret for a member (LinkError when there is no such member)."""
    moment = now or utcnow()
    secret = secrets.token_urlsafe(32)
    async with engine.begin() as connection:
        found = await connection.scalar(
            select(Member.member_id).where(
                Member.community_id == community_id, Member.member_id == member_id
            )
        )
        if found is None:
            raise LinkError(f"community {community_id!r} has no member {member_id!r}")
        await connection.execute(
            insert(MemberLink).values(
                link_hash=_hash(secret),
                community_id=community_id,
                member_id=member_id,
                created_at=moment,
                expires_at=moment + timedelta(days=LINK_DAYS),
            )
        )
    return secret


async def peek_member_link(engine: AsyncEngine, secret: str) -> tuple[str, str] | None:
    """(community, member) of a link still usable, without using it (for the landing page)."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(MemberLink.community_id, MemberLink.member_id).where(
                    MemberLink.link_hash == _hash(secret),
                    MemberLink.used_at.is_(None),
                    MemberLink.expires_at > utcnow(),
                )
            )
        ).first()
    return None if row is None else (row.community_id, row.member_id)


async def use_member_link(
    engine: AsyncEngine, secret: str, language: str | None = None
) -> str | None:
    """Use a link once: a member session's secret, or None (unknown, used or expired).

    One conditional UPDATE marks it used: of two requests with the same link, one wins.
    """
    digest = _hash(secret)
    now = utcnow()
    async with engine.begin() as connection:
        used = await connection.execute(
            update(MemberLink)
            .where(
                MemberLink.link_hash == digest,
                MemberLink.used_at.is_(None),
                MemberLink.expires_at > now,
            )
            .values(used_at=now)
            .returning(MemberLink.community_id, MemberLink.member_id)
        )
        row = used.first()
    if row is None:
        return None
    return await start_session(
        engine,
        "member",
        community_id=row.community_id,
        member_id=row.member_id,
        language=language,
    )
