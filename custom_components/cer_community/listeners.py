"""Callbacks to call when figures change (the sensors of a site or of the community)."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import callback


class Listeners:
    """A set of ``update()`` callbacks, each added with its own unsubscribe."""

    def __init__(self) -> None:
        self._updates: list[Callable[[], None]] = []

    @callback
    def add(self, update: Callable[[], None]) -> Callable[[], None]:
        """Call ``update`` on every :meth:`notify`; answers the unsubscribe."""
        self._updates.append(update)

        @callback
        def remove() -> None:
            if update in self._updates:
                self._updates.remove(update)

        return remove

    @callback
    def notify(self) -> None:
        """Call every listener (a listener may unsubscribe while being called)."""
        for update in list(self._updates):
            update()
