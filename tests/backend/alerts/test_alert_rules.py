"""Each rule, from a situation built in data, through ``alerts check --at``: exactly the
alerts expected, and none in the regular weeks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cer_backend.domain.community import parse_community
from cer_backend.domain.errors import InvalidInput

from .builders import (
    AT,
    HOME,
    LIGHTS,
    PLANT_C,
    ROME,
    TOWN_HALL,
    build,
    causes,
    check,
    community,
)

pytestmark = pytest.mark.database


def test_regular_weeks_raise_no_alert(database_url: str) -> None:
    community_id = build(database_url)
    answer = check(database_url, community_id)
    assert answer["alerts"] == []
    assert answer["at"] == AT.isoformat().replace("+02:00", "+00:00").replace("12:00", "10:00")


def test_a_home_assistant_silent_for_five_hours(database_url: str) -> None:
    silent_from = AT - timedelta(hours=5)

    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        return None if pod == HOME and local >= silent_from else (injected, withdrawn)

    community_id = build(database_url, change)
    answer = check(database_url, community_id)
    assert causes(answer) == {f"site_silent:{HOME}"}
    alert = answer["alerts"][0]
    assert alert["new"] is True and alert["kind"] == "site_silent"
    assert alert["details"]["silent_hours"] == 5
    assert HOME not in alert["message"]  # a person's POD is masked in the text
    # three hours of silence are still fine
    assert check(database_url, community_id, AT - timedelta(hours=2))["alerts"] == []


def test_distributor_data_missing_for_the_previous_month(database_url: str) -> None:
    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        if pod == TOWN_HALL and local.date().isoformat() == "2025-05-20":
            return None
        return injected, withdrawn

    community_id = build(database_url, change)
    answer = check(database_url, community_id)
    assert causes(answer) == {f"data_incomplete:{TOWN_HALL}"}
    details = answer["alerts"][0]["details"]
    assert details == {"missing_hours": 24, "expected_hours": 744, "month": "2025-05"}
    # on the 10th of June, April is judged, and April is complete
    assert check(database_url, community_id, datetime(2025, 6, 10, 12, tzinfo=ROME))["alerts"] == []


def test_a_plant_producing_a_third_of_the_others(database_url: str) -> None:
    bad_day = (AT - timedelta(days=1)).date()

    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        if pod == PLANT_C and local.date() == bad_day:
            return injected // 3, withdrawn
        return injected, withdrawn

    community_id = build(database_url, change)
    answer = check(database_url, community_id)
    assert causes(answer) == {"production_low:deposito"}
    alert = answer["alerts"][0]
    assert alert["subject"] == "deposito" and alert["details"]["day"] == bad_day.isoformat()
    assert alert["details"]["low_hours"] >= 3
    # the next day is judged the day after: the cause is gone, the alert resolves
    assert check(database_url, community_id, AT + timedelta(days=1))["resolved"][0]["cause"] == (
        "production_low:deposito"
    )


def test_public_lighting_on_with_the_sun_up(database_url: str) -> None:
    morning = AT.replace(hour=9)

    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        if pod == LIGHTS and local.date() == AT.date() and 9 <= local.hour < 11:
            return injected, 450
        return injected, withdrawn

    community_id = build(database_url, change)
    assert check(database_url, community_id, morning)["alerts"] == []  # hours not ended yet
    answer = check(database_url, community_id)
    assert causes(answer) == {f"lighting_daytime:{LIGHTS}"}
    assert answer["alerts"][0]["details"]["hours"] == 2
    assert "Illuminazione via Roma" in answer["alerts"][0]["message"]


def test_lighting_below_the_threshold_or_at_dawn_is_quiet(database_url: str) -> None:
    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        if pod == LIGHTS and local.date() == AT.date():
            if 9 <= local.hour < 11:
                return injected, 200  # not more than 200 Wh
            if local.hour == 5:
                return injected, 900  # the sun is below 5°
        return injected, withdrawn

    community_id = build(database_url, change)
    assert check(database_url, community_id)["alerts"] == []


def test_the_town_hall_base_load_doubles_for_two_nights(database_url: str) -> None:
    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        recent = local.date() >= (AT - timedelta(days=1)).date()
        if pod == TOWN_HALL and recent and local.hour < 6:
            return injected, 2000
        return injected, withdrawn

    community_id = build(database_url, change)
    answer = check(database_url, community_id)
    assert causes(answer) == {f"baseload_jump:{TOWN_HALL}"}
    assert answer["alerts"][0]["details"]["night_wh"] == 2000
    assert answer["alerts"][0]["details"]["median_wh"] == 1000


def test_one_night_alone_is_not_a_jump(database_url: str) -> None:
    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        if pod == TOWN_HALL and local.date() == AT.date() and local.hour < 6:
            return injected, 2000
        return injected, withdrawn

    community_id = build(database_url, change)
    assert check(database_url, community_id)["alerts"] == []


def test_a_week_of_lower_self_consumption(database_url: str) -> None:
    week = (AT - timedelta(days=7)).date()

    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        if pod == TOWN_HALL and local.date() >= week and 8 <= local.hour < 18:
            return injected, 1000
        return injected, withdrawn

    community_id = build(database_url, change)
    answer = check(database_url, community_id)
    assert causes(answer) == {"self_consumption_drop"}
    details = answer["alerts"][0]["details"]
    assert float(details["ratio_pct"]) < 0.8 * float(details["median_pct"])


def test_surplus_threshold_when_nearly_everything_is_shared(database_url: str) -> None:
    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        if pod == TOWN_HALL and 7 <= local.hour < 20:
            return injected, 200_000
        return injected, withdrawn

    community_id = build(database_url, change)
    answer = check(database_url, community_id, AT, "--dry-run")
    assert causes(answer) == {"surplus_threshold:tip_only"}
    alert = answer["alerts"][0]
    assert alert["severity"] == "info" and alert["details"]["earmarked"] is True
    assert float(alert["details"]["ratio_pct"]) > 55


def test_a_member_leaving_within_thirty_days(database_url: str) -> None:
    data = community()
    data["members"][1]["left"] = (AT + timedelta(days=10)).date().isoformat()
    community_id = build(database_url, data=data)
    answer = check(database_url, community_id)
    assert causes(answer) == {"member_leaving:famiglia_1"}
    assert answer["alerts"][0]["details"]["days"] == 10
    assert "Bianchi" not in answer["alerts"][0]["message"]  # no name of a person


def test_thresholds_from_the_community_settings(database_url: str) -> None:
    data = community(alerts={"member_leaving": {"days": 5}, "site_silent": {"enabled": False}})
    data["members"][1]["left"] = (AT + timedelta(days=10)).date().isoformat()
    silent_from = AT - timedelta(hours=5)

    def change(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int] | None:
        return None if pod == HOME and local >= silent_from else (injected, withdrawn)

    community_id = build(database_url, change, data=data)
    assert check(database_url, community_id)["alerts"] == []


def test_settings_alerts_are_checked_with_the_community_file() -> None:
    good = community(alerts={"production_low": {"share_pct": 50, "enabled": True}})
    assert parse_community(good).settings.alerts == {
        "production_low": {"share_pct": 50, "enabled": True}
    }
    bad = community(
        alerts={
            "production_lo": {"share_pct": 50},
            "lighting_daytime": {"max_wh": "tanto", "colour": 1},
            "baseload_jump": {"rise_pct": -5, "enabled": "yes"},
        }
    )
    with pytest.raises(InvalidInput) as caught:
        parse_community(bad)
    paths = sorted(p.path for p in caught.value.problems)
    assert paths == [
        "settings.alerts.baseload_jump.enabled",
        "settings.alerts.baseload_jump.rise_pct",
        "settings.alerts.lighting_daytime.colour",
        "settings.alerts.lighting_daytime.max_wh",
        "settings.alerts.production_lo",
    ]
