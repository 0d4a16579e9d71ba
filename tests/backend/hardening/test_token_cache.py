"""Issue #12, defect 6: a spray of unknown tokens cannot flush the valid ones from the cache.

Before the fix unknown tokens shared the 10,000-entry cache with the valid ones, and a full
cache was cleared: every valid token then cost a database query again.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import event

from cer_backend.database import create_engine
from cer_backend.migrate import upgrade
from cer_backend.service.tokens import TokenStore, create_token

# the defaults are 10,000 and 1,000; smaller sizes keep the spray short, same behaviour
POSITIVE_CACHE_SIZE = 200
UNKNOWN_CACHE_SIZE = 20


async def test_a_spray_of_unknown_tokens_keeps_the_valid_ones_cached(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        valid, token_id = await create_token(engine, "admin")
        store = TokenStore(engine, POSITIVE_CACHE_SIZE, UNKNOWN_CACHE_SIZE)
        queries: list[str] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            queries.append(statement)

        principal = await store.authenticate(valid)
        assert principal is not None and principal.token_id == token_id
        assert len(queries) == 1
        spray = [f"cer_{secrets.token_urlsafe(32)}" for _ in range(POSITIVE_CACHE_SIZE + 1)]
        for token in spray:
            assert await store.authenticate(token) is None
        assert len(queries) == 1 + len(spray)
        assert await store.authenticate(valid) == principal
        assert len(queries) == 1 + len(spray)  # still cached: no query
        # the unknown ones are cached too, within their own bound (the newest kept)
        assert store.unknown_cached <= UNKNOWN_CACHE_SIZE < len(spray)
        assert await store.authenticate(spray[-1]) is None
        assert len(queries) == 1 + len(spray)
    finally:
        await engine.dispose()


pytestmark = pytest.mark.database
