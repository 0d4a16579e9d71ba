"""One mapping of the backend client's errors to what a coordinator must raise.

Every coordinator that reads the backend (community live, money, alerts) decorates its
``_async_update_data`` with :func:`backend_update`:

* :class:`~.api.CerApiAuthError` (401, or 403 unless told otherwise) becomes
  :class:`ConfigEntryAuthFailed`: Home Assistant starts the reauthentication flow;
* any other :class:`~.api.CerApiError` (the backend is down, slow, or answered outside the
  contract) and an answer the coordinator cannot read (``KeyError``, ``TypeError``,
  ``ValueError``) become :class:`UpdateFailed`: the entities go unavailable, one log line, and
  the next poll tries again.

Both carry the translated messages ``backend_auth_failed`` and ``backend_unavailable``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from homeassistant.exceptions import ConfigEntryAuthFailed

from .api import CerApiAuthError, CerApiError
from .compat import update_failed
from .const import DOMAIN

_SelfT = TypeVar("_SelfT")
_DataT = TypeVar("_DataT")
_P = ParamSpec("_P")


def backend_update(
    what: str, *, forbidden_is_auth: bool = True
) -> Callable[
    [Callable[Concatenate[_SelfT, _P], Coroutine[Any, Any, _DataT]]],
    Callable[Concatenate[_SelfT, _P], Coroutine[Any, Any, _DataT]],
]:
    """Decorate a coordinator's update with the backend error mapping.

    ``what`` names the figures in the log line ("the community summary"). With
    ``forbidden_is_auth=False`` a 403 (a valid token that may not read these figures) is an
    update failure, not a reason to reauthenticate.
    """

    def decorator(
        update: Callable[Concatenate[_SelfT, _P], Coroutine[Any, Any, _DataT]],
    ) -> Callable[Concatenate[_SelfT, _P], Coroutine[Any, Any, _DataT]]:
        @wraps(update)
        async def wrapper(self: _SelfT, /, *args: _P.args, **kwargs: _P.kwargs) -> _DataT:
            try:
                return await update(self, *args, **kwargs)
            except CerApiAuthError as err:
                if forbidden_is_auth or err.status != 403:
                    raise ConfigEntryAuthFailed(
                        f"The backend refused the token: {err}",
                        translation_domain=DOMAIN,
                        translation_key="backend_auth_failed",
                        translation_placeholders={"error": str(err)},
                    ) from err
                raise _unavailable(f"The token may not read {what}", err) from err
            except (CerApiError, KeyError, TypeError, ValueError) as err:
                raise _unavailable(f"{what[:1].upper()}{what[1:]} is not available", err) from err

        return wrapper

    return decorator


def _unavailable(message: str, err: Exception) -> Exception:
    return update_failed(f"{message}: {err}", "backend_unavailable", {"error": str(err)})
