"""Each site's part of a period's shared energy and estimated income (issue #14 item 11).

Shared energy needs an injection and a withdrawal in the same hour (GSE-RULES §1), so the
staff dashboard credits each site with both sides of what the settlement attributes to it:

- on the injection side, the energy of its plants that the "first in" split allocated
  (``allocated_wh`` of the plants on that POD);
- on the withdrawal side, its coincident withdrawal (each hour's E_cond pro-rata to the
  withdrawals, the engine's ``coincident_withdrawal_shares``).

Each side adds up to the shared energy, so a site's share is half the sum of its two sides:
the community's shared energy and estimated income (TIP + valorisation) are split
pro-rata to ``injected side + withdrawn side``, in whole Wh and whole cents by largest
remainder, so the sites' shares add up exactly to the totals. It is an indicator for the
dashboard, not what a member is paid (that is the statute's distribution, in the statements).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .money import largest_remainder


@dataclass(frozen=True, slots=True)
class SiteShare:
    """One site's (POD's) part of the period's shared energy and estimated income."""

    pod: str
    shared_injected_wh: int
    shared_withdrawn_wh: int
    share_wh: int
    share_cents: int


def site_shares(
    pods: Sequence[str],
    injected_side: Mapping[str, int],
    withdrawn_side: Mapping[str, int],
    shared_wh: int,
    estimated_cents: int,
) -> list[SiteShare]:
    """Split ``shared_wh`` and ``estimated_cents`` among ``pods`` pro-rata to the energy the
    settlement attributes to each on both sides (module docstring); PODs that shared nothing
    get 0. When nothing is attributed (no shared energy) every share is 0."""
    injected = [max(0, int(injected_side.get(pod, 0))) for pod in pods]
    withdrawn = [max(0, int(withdrawn_side.get(pod, 0))) for pod in pods]
    weights = [i + w for i, w in zip(injected, withdrawn, strict=True)]
    if sum(weights) == 0:
        energy = cents = [0] * len(pods)
    else:
        energy = largest_remainder(shared_wh, weights)
        cents = largest_remainder(estimated_cents, weights)
    return [
        SiteShare(pod, injected[k], withdrawn[k], energy[k], cents[k]) for k, pod in enumerate(pods)
    ]
