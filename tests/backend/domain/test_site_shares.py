"""``domain.site_shares``: both sides of the shared energy, shares adding up exactly."""

from __future__ import annotations

from cer_backend.domain.site_shares import site_shares


def test_half_of_both_sides_in_whole_wh_and_cents() -> None:
    # 1,000 Wh shared: the plant A injected all of it; B and C withdrew 700 and 300 of it
    shares = site_shares(
        ["A", "B", "C"], {"A": 1_000}, {"B": 700, "C": 300}, shared_wh=1_000, estimated_cents=1_001
    )
    assert [s.share_wh for s in shares] == [500, 350, 150]
    assert [s.share_cents for s in shares] == [501, 350, 150]  # the odd cent: largest remainder
    assert sum(s.share_cents for s in shares) == 1_001
    assert (shares[0].shared_injected_wh, shares[0].shared_withdrawn_wh) == (1_000, 0)


def test_a_prosumer_gets_both_sides() -> None:
    shares = site_shares(["A", "B"], {"A": 90}, {"A": 30, "B": 60}, 90, 999)
    assert [s.share_wh for s in shares] == [60, 30]
    assert sum(s.share_cents for s in shares) == 999


def test_nothing_shared_is_no_share() -> None:
    shares = site_shares(["A", "B"], {}, {}, 0, 0)
    assert [(s.share_wh, s.share_cents) for s in shares] == [(0, 0), (0, 0)]
