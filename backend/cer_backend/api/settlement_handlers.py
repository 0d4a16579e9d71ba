"""Handlers of settlement runs, prices, summaries and reports."""

from __future__ import annotations

from .routing import Route

ROUTES: list[Route] = []
