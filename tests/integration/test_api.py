"""The backend client against a real aiohttp server on 127.0.0.1 (the contract stub)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from homeassistant.core import HomeAssistant

from custom_components.cer_community.api import (
    MAX_READINGS_PER_REQUEST,
    CerApiAuthError,
    CerApiClient,
    CerApiConnectionError,
    CerApiError,
    LiveReading,
    RejectedReading,
    normalise_base_url,
)

from .backend_stub import BackendStub, Token

POD = "IT001E00000001"
OTHER_POD = "IT001E00000002"


@pytest.fixture
async def backend(socket_enabled: None) -> AsyncIterator[BackendStub]:
    stub = BackendStub(
        {POD, OTHER_POD},
        {
            "site-token": Token("site", {POD}),
            "viewer-token": Token("viewer"),
        },
    )
    await stub.start()
    yield stub
    await stub.stop()


def _client(hass: HomeAssistant, backend: BackendStub, token: str = "site-token") -> CerApiClient:
    return CerApiClient.from_hass(hass, backend.url + "/", token, timeout=2)


def _reading(hour: datetime, injected: int = 100, **extra: object) -> dict[str, object]:
    return {
        "hour_start": hour.isoformat(),
        "injected_wh": injected,
        "withdrawn_wh": 20,
        "quality": "measured",
        "samples": 360,
        **extra,
    }


HOUR = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


async def test_readings_accepted_duplicate_replaced_and_rejected_one_by_one(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    client = _client(hass, backend)
    first = await client.post_readings(POD, [_reading(HOUR), _reading(HOUR + timedelta(hours=1))])
    assert (first.accepted, first.duplicates, first.replaced, first.rejected) == (2, 0, 0, [])

    future = datetime.now(UTC) + timedelta(hours=2)
    second = await client.post_readings(
        POD,
        [
            _reading(HOUR),  # same values: duplicate
            _reading(HOUR + timedelta(hours=1), injected=101),  # other values: replaced
            _reading(future.replace(minute=0, second=0, microsecond=0)),  # not ended
            _reading(HOUR + timedelta(hours=2), injected=-1),  # invalid
        ],
    )
    assert (second.accepted, second.duplicates, second.replaced) == (0, 1, 1)
    assert [r.index for r in second.rejected] == [2, 3]
    assert all(isinstance(r, RejectedReading) and r.message for r in second.rejected)


async def test_unknown_token_is_an_auth_error(hass: HomeAssistant, backend: BackendStub) -> None:
    with pytest.raises(CerApiAuthError) as err:
        await _client(hass, backend, "nope").post_readings(POD, [_reading(HOUR)])
    assert err.value.status == 401
    assert err.value.detail == "unknown token"


async def test_a_pod_the_token_may_not_write_is_an_auth_error(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    with pytest.raises(CerApiAuthError) as err:
        await _client(hass, backend).post_readings(OTHER_POD, [_reading(HOUR)])
    assert err.value.status == 403


async def test_other_4xx_keep_the_problem_details(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    backend.pods.discard(POD)
    with pytest.raises(CerApiError) as err:
        await _client(hass, backend).post_readings(POD, [_reading(HOUR)])
    assert not isinstance(err.value, CerApiConnectionError | CerApiAuthError)
    assert err.value.status == 422
    assert err.value.title == "Unknown POD"
    assert err.value.errors == [{"field": "pod", "message": "unknown POD"}]
    assert "IT001E00000001" in (err.value.detail or "")


async def test_5xx_down_and_timeouts_are_connection_errors(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    client = _client(hass, backend)
    backend.fail_status = 503
    with pytest.raises(CerApiConnectionError) as err:
        await client.get_community_live()
    assert err.value.status == 503

    backend.fail_status = None
    backend.delay_s = 3
    with pytest.raises(CerApiConnectionError, match="timed out"):
        await client.get_community_live()

    backend.delay_s = 0
    await backend.stop()
    with pytest.raises(CerApiConnectionError):
        await client.get_community_live()


async def test_at_most_744_readings_per_request(hass: HomeAssistant, backend: BackendStub) -> None:
    readings = [_reading(HOUR - timedelta(hours=i)) for i in range(MAX_READINGS_PER_REQUEST + 1)]
    with pytest.raises(ValueError, match="744"):
        await _client(hass, backend).post_readings(POD, readings)
    result = await _client(hass, backend).post_readings(POD, readings[:-1])
    assert result.accepted == MAX_READINGS_PER_REQUEST


async def test_live_answers_the_community_figures(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    client = _client(hass, backend)
    community = await client.post_live(
        LiveReading(
            pod=POD,
            ts=datetime.now(UTC),
            injection_w=1500.0,
            withdrawal_w=0.0,
            hour_injected_wh=700,
            hour_withdrawn_wh=50,
        )
    )
    assert community.injected_wh == 700
    assert community.shared_wh == 50
    assert community.surplus_w == 1500.0
    assert community.sites_reporting == 1
    assert community.sites_total == 2
    assert community.tip_estimate_eur_mwh == 110.5
    assert backend.live[POD]["hour_injected_wh"] == 700

    viewer = await _client(hass, backend, "viewer-token").async_validate()
    assert viewer == community


def test_base_url_is_normalised() -> None:
    assert normalise_base_url(" https://cer.example.it/ ") == "https://cer.example.it"
    assert normalise_base_url("https://cer.example.it/api/v1/") == "https://cer.example.it"
