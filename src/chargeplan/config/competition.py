"""``[competition]``: the third-party network's share of the brand users' public demand, by a
Huff choice model, and the share the brand's own network aims to carry.

The mathematics is in :mod:`chargeplan.inputs.competition` and ``docs/competition.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from chargeplan.config.validation import Frozen, NonNegativeFloat, PositiveFloat, Share

__all__ = ["CompetitionConfig"]


class CompetitionConfig(Frozen):
    """``[competition]``: who the brand's users charge with, own network or third parties.

    Attributes
    ----------
    decay
        Distance decay ``f(d)``: ``"exponential"``, ``f(d) = exp(-decay_per_km * d)`` (the
        multinomial-logit form, McFadden 1974, with utility linear in distance), or
        ``"power"``, ``f(d) = max(d, min_distance_km) ** -decay_power`` (Huff 1963, 1964).
    decay_per_km
        beta of the exponential decay, per km. Default 0.5: an assumption (no published
        estimate for public charging in China); a station 1.4 km further away weighs half.
    decay_power
        lambda of the power decay. Default 2: an assumption, the inverse square of Reilly's law
        of retail gravitation (1931), which Huff's model generalises.
    min_distance_km
        Distances below it count as it (the power decay is infinite at 0). Default 0.5 km:
        about a city block and a car park.
    cutoff_km
        Third-party stations further than this from a zone's demand centre are ignored.
        Default 10 km: at the default decay ``exp(-5)``, under 1 % of a station at 0 km.
    own_piles
        Piles of each charger type at the reference own station (its attractiveness before
        ``own_preference``). Every charger type of the scenario needs one.
    own_preference
        How many third-party piles one own pile is worth to the brand's users (brand
        preference, loyalty, reserved bays, plug and charge). Default 1: no preference.
    target_own_share
        The share of the brand users' public energy the brand's network aims to carry, in
        [0, 1]: zone i's demand the network is sized for is ``min(1 - P_i, target_own_share)``
        of its public demand (``P_i`` the third-party share of the choice model). 0: the brand
        relies on third parties and builds nothing beyond what it already has; 1 (default):
        it aims at everything the choice model leaves to it.
    region_chargers
        Optional CSV of published public-charger counts by region (``region`` and one
        ``piles_<type>`` column per charger type): each region's piles are spread over its
        zones by population and placed at the zones' demand centres as pseudo-stations (the
        national coarse layer). ``region`` matches ``region_chargers_column``; the value
        ``"*"`` spreads a count over every zone. ``models/public-chargers-cn-2024.csv`` is the
        national table by prefecture (``geodata/build_public_chargers.py``).
    region_chargers_column
        The zones' column that the ``region`` of ``region_chargers`` names (e.g. ``city_code``
        for prefectures; H3 cells inherit it from their prefecture). Default: the zones'
        ``zones.region_column``.
    own_reference_km
        Distance (km) of the reference own station from a zone's demand centre. Default: the
        zone's reach (its service-standard distance, else ``reach.service_radius_km``), right
        for zones smaller than the reach. On zones far larger than the decay length
        (prefectures), the brand's hubs stand inside the zone as its third-party piles do,
        which the regional layer puts at the demand centre: 0 puts the own station there too,
        so the decay cancels inside a zone (``docs/competition.md``).
    """

    decay: Literal["exponential", "power"] = "exponential"
    decay_per_km: PositiveFloat = 0.5
    decay_power: PositiveFloat = 2.0
    min_distance_km: PositiveFloat = 0.5
    cutoff_km: PositiveFloat = 10.0
    own_piles: dict[str, PositiveFloat] = Field(default_factory=dict)
    own_preference: PositiveFloat = 1.0
    target_own_share: Share = 1.0
    region_chargers: Path | None = None
    region_chargers_column: str | None = None
    own_reference_km: NonNegativeFloat | None = None

    def check(self, types: list[str], capture_share: float) -> None:
        """Raise ``ValueError`` (named key, the fix) when ``own_piles`` misses a charger type
        or ``existing.competitor_capture_share`` also sets third parties' share."""
        missing = [k for k in types if k not in self.own_piles]
        if missing:
            raise ValueError(
                f"competition.own_piles gives no figure for charger types {missing}: add them "
                f"(e.g. {missing[0]} = 4)"
            )
        if capture_share > 0:
            raise ValueError(
                "existing.competitor_capture_share and [competition] both set third parties' "
                "share: remove competitor_capture_share (the [competition] choice model uses "
                "the existing.stations list)"
            )
