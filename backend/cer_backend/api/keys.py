"""Application keys shared by the handlers."""

from __future__ import annotations

from typing import Final

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from ..service.groupcommit import GroupCommitter
from ..service.live import LiveStore
from ..service.registry import RegistryCache

ENGINE_KEY: Final = web.AppKey("engine", AsyncEngine)
REGISTRY_KEY: Final = web.AppKey("registry", RegistryCache)
LIVE_KEY: Final = web.AppKey("live", LiveStore)
COMMITTER_KEY: Final = web.AppKey("committer", GroupCommitter)
