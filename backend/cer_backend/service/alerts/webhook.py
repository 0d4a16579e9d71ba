"""The webhook: a JSON POST of each new alert, signed with HMAC-SHA256.

The header ``X-CER-Signature: sha256=<hex>`` is the HMAC-SHA256 of the raw body with the
secret ``CER_WEBHOOK_SECRET``; a receiver recomputes it over the bytes it got. A failed POST
(no answer, or not 2xx) is retried with exponential backoff; what still fails is retried at
the next evaluation.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from typing import Any, Final

import aiohttp

_LOGGER = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-CER-Signature"
#: seconds to wait before each retry (four tries in all)
RETRY_DELAYS: Final = (1.0, 2.0, 4.0)
TIMEOUT_SECONDS: Final = 10.0


def signature(secret: str, body: bytes) -> str:
    """The header value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(alert: dict[str, Any]) -> bytes:
    """The raw JSON body of an alert (UTF-8, keys sorted: the bytes that are signed)."""
    return json.dumps(alert, ensure_ascii=False, sort_keys=True).encode()


async def post_alert(
    session: aiohttp.ClientSession,
    url: str,
    secret: str,
    alert: dict[str, Any],
    delays: Sequence[float] = RETRY_DELAYS,
) -> tuple[bool, int, str]:
    """POST one alert, retrying after each of ``delays``; (delivered, attempts, last error)."""
    body = body_of(alert)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body)}
    error = ""
    for attempt in range(len(delays) + 1):
        if attempt:
            await asyncio.sleep(delays[attempt - 1])
        try:
            async with session.post(
                url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(TIMEOUT_SECONDS)
            ) as response:
                if 200 <= response.status < 300:
                    return True, attempt + 1, ""
                error = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as err:
            error = str(err) or type(err).__name__
        _LOGGER.warning("Alert webhook attempt %d failed: %s", attempt + 1, error)
    return False, len(delays) + 1, error
