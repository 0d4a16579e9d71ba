"""Bearer tokens: random secrets shown once, stored as SHA-256, with a role and a scope."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..models import Community, Pod, Token, utcnow

ROLES = ("admin", "site", "viewer")
TOKEN_PREFIX = "cer_"
CACHE_SECONDS = 30.0
#: valid tokens kept in the cache (a full cache is emptied: valid tokens are few)
POSITIVE_CACHE_SIZE = 10_000
#: unknown tokens kept apart, the oldest dropped first: a spray of random tokens cannot
#: flush the valid ones (issue #12)
UNKNOWN_CACHE_SIZE = 1_000


class TokenError(ValueError):
    """A token cannot be made as asked."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request speaks for."""

    token_id: int
    role: str
    community_id: str | None
    pods: frozenset[str]

    @property
    def is_global_admin(self) -> bool:
        """An admin of every community."""
        return self.role == "admin" and self.community_id is None


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    engine: AsyncEngine,
    role: str,
    community_id: str | None = None,
    pods: Iterable[str] = (),
    label: str | None = None,
) -> tuple[str, int]:
    """Make a token; returns (the secret, its id). The secret is not stored."""
    pod_list = sorted(set(pods))
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if role in ("site", "viewer") and community_id is None:
        raise TokenError(f"a {role} token needs a community")
    if role == "site" and not pod_list:
        raise TokenError("a site token needs at least one POD")
    if role != "site" and pod_list:
        raise TokenError("only site tokens are scoped to PODs")
    async with engine.begin() as connection:
        if community_id is not None:
            found = await connection.scalar(
                select(Community.community_id).where(Community.community_id == community_id)
            )
            if found is None:
                raise TokenError(f"no community {community_id!r}")
            if pod_list:
                known = set(
                    (
                        await connection.scalars(
                            select(Pod.pod).where(
                                Pod.community_id == community_id, Pod.pod.in_(pod_list)
                            )
                        )
                    ).all()
                )
                unknown = [pod for pod in pod_list if pod not in known]
                if unknown:
                    raise TokenError(f"community {community_id!r} has no POD {', '.join(unknown)}")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        result = await connection.execute(
            insert(Token)
            .values(
                community_id=community_id,
                role=role,
                pods=pod_list,
                token_hash=hash_token(secret),
                label=label,
                created_at=utcnow(),
            )
            .returning(Token.token_id)
        )
        token_id = int(result.scalar_one())
    return secret, token_id


class TokenStore:
    """Looks tokens up by hash, with a short cache (a revoked token stops within 30 s)."""

    def __init__(
        self,
        engine: AsyncEngine,
        positive_size: int = POSITIVE_CACHE_SIZE,
        unknown_size: int = UNKNOWN_CACHE_SIZE,
    ) -> None:
        self._engine = engine
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._positive_size = positive_size
        self._unknown_size = unknown_size

    @property
    def unknown_cached(self) -> int:
        """How many unknown tokens are cached."""
        return len(self._unknown)

    def forget(self) -> None:
        """Drop the cache (after a revocation in this process)."""
        self._cache.clear()
        self._unknown.clear()

    async def authenticate(self, token: str) -> Principal | None:
        """The principal of a token, or None when it is unknown or revoked."""
        digest = hash_token(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        unknown_until = self._unknown.get(digest)
        if unknown_until is not None and unknown_until > now:
            return None
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(Token.token_id, Token.role, Token.community_id, Token.pods).where(
                        Token.token_hash == digest, Token.revoked_at.is_(None)
                    )
                )
            ).first()
        if row is None:
            self._unknown[digest] = now + CACHE_SECONDS
            self._unknown.move_to_end(digest)
            while len(self._unknown) > self._unknown_size:
                self._unknown.popitem(last=False)
            return None
        principal = Principal(
            int(row.token_id), row.role, row.community_id, frozenset(row.pods or ())
        )
        if len(self._cache) >= self._positive_size:
            self._cache.clear()
        self._cache[digest] = (now + CACHE_SECONDS, principal)
        self._unknown.pop(digest, None)
        return principal


async def revoke_token(engine: AsyncEngine, token_id: int, community_id: str | None) -> bool:
    """End-date a token; False when there is no such token in the scope."""
    statement = update(Token).where(Token.token_id == token_id, Token.revoked_at.is_(None))
    if community_id is not None:
        statement = statement.where(Token.community_id == community_id)
    async with engine.begin() as connection:
        result = await connection.execute(statement.values(revoked_at=utcnow()))
    return bool(result.rowcount)
