"""Structured logs: one JSON object per line (``--log-format json``), or plain text.

Every line is redacted before it is written (issue #12): a token secret or a SHA-256 hash
becomes ``****`` and a POD code keeps only its country, distributor and last four characters
(``IT001E****0004``), whatever logged it (our code, aiohttp, SQLAlchemy, a traceback).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_POD = re.compile(r"(?<![0-9A-Z])IT[0-9]{3}E[0-9A-Z]{6,12}(?![0-9A-Z])")
_SECRET = re.compile(r"cer_[A-Za-z0-9_-]{20,}")
_HASH = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")


def mask_pod(pod: str) -> str:
    """A POD code as logs show it: country, distributor and the last four characters."""
    return f"{pod[:6]}****{pod[-4:]}"


def redact(text: str) -> str:
    """The text without token secrets, hashes or whole POD codes."""
    text = _SECRET.sub("cer_****", text)
    text = _HASH.sub("****", text)
    return _POD.sub(lambda match: mask_pod(match.group(0)), text)


class RedactingFormatter(logging.Formatter):
    """Plain-text lines, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        """One redacted line (with its traceback, if any)."""
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", ...fields}`` per record."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line."""
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, ensure_ascii=False, default=str))


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    fmt: str = "json", level: int = logging.INFO, access_log: bool = True
) -> None:
    """Send logs to stderr in the given format (replaces the root handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("cer_backend.access").setLevel(
        logging.INFO if access_log else logging.WARNING
    )
