r"""Third-party charging networks: the share of the brand users' public demand they take, by a
Huff choice model with distance decay (``[competition]``, ``docs/competition.md``).

The model
---------
For zone i and charger type k, a brand user who charges in public chooses among the third-party
stations c within ``cutoff_km`` of the zone's demand centre and the brand's own network with
probabilities proportional to attractiveness times distance decay (Huff 1963, 1964; with
``f(d) = exp(-beta d)`` it is the multinomial logit of McFadden 1974 whose utility is
``ln A - beta d``):

.. math::

    P_{ik} = \frac{\sum_c A_{ck}\, f(d_{ic})}{\sum_c A_{ck}\, f(d_{ic}) + A^{own}_k\, f(r_i)}

- :math:`A_{ck}`: piles of type k at third-party station c (capacity as attractiveness);
- :math:`d_{ic}`: straight-line distance, km, from zone i's demand centre to station c;
- :math:`f(d) = e^{-\beta d}` (``decay = "exponential"``) or
  :math:`f(d) = \max(d, d_{min})^{-\lambda}` (``decay = "power"``);
- :math:`A^{own}_k = \text{own\_preference} \cdot \text{own\_piles}_k`: a reference own station;
- :math:`r_i`: the zone's reach (its service-standard distance, ``[reach.standard]``, else
  ``reach.service_radius_km``), or ``own_reference_km`` (0 on prefectures, where the brand's
  hubs stand inside the zone like its third-party piles).

The brand's own stations are what the solve decides, so they are unknown here: the model puts
a reference own station at the farthest distance the plan may serve the zone from. A zone the
plan serves from closer is, in truth, more loyal than :math:`P_{ik}` says; the share is
therefore an upper bound on what third parties take from a served zone. Kept pre-solve, it
leaves the MILP linear.

With the target own share :math:`T` (``target_own_share``), the demand the network is sized for
is

.. math::

    D'_{ik} = \min(1 - P_{ik},\ T)\, D_{ik}

and the rest, :math:`D_{ik} - D'_{ik}`, is left to third parties (``captured_kwh_<type>``).
:math:`P_{ik}` never rises when a third-party pile is removed and never falls when one is
added, so more competitor piles never raise the demand left to the brand.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from chargeplan.config.competition import CompetitionConfig
from chargeplan.config.scenario import Scenario
from chargeplan.errors import InputError

__all__ = [
    "apply_choice_model",
    "compete",
    "decay",
    "regional_pseudo_stations",
    "third_party_share",
]


def decay(distance_km: np.ndarray, config: CompetitionConfig) -> np.ndarray:
    """The distance decay ``f(d)`` of ``config.decay`` (see the module docstring)."""
    d = np.asarray(distance_km, float)
    if config.decay == "exponential":
        return np.exp(-config.decay_per_km * d)
    return np.maximum(d, config.min_distance_km) ** -config.decay_power


def third_party_share(
    pair_zone: np.ndarray,
    pair_km: np.ndarray,
    pair_piles: np.ndarray,
    own_km: np.ndarray,
    own_attractiveness: float,
    config: CompetitionConfig,
) -> np.ndarray:
    r"""Huff share :math:`P_i` of third parties, one charger type, from arrays.

    Parameters
    ----------
    pair_zone
        ``(P,)`` zone position of each zone-station pair (stations within the cutoff).
    pair_km
        ``(P,)`` distance of the pair, km.
    pair_piles
        ``(P,)`` the station's piles of this type, :math:`A_c`.
    own_km
        ``(Z,)`` the reference own station's distance :math:`r_i`, km.
    own_attractiveness
        :math:`A^{own}` (> 0).

    Returns
    -------
    numpy.ndarray
        ``(Z,)`` :math:`P_i` in [0, 1); 0 where no third-party pile is within the cutoff.
    """
    own_km = np.asarray(own_km, float)
    pull = np.bincount(
        np.asarray(pair_zone, np.int64),
        weights=np.asarray(pair_piles, float) * decay(pair_km, config),
        minlength=len(own_km),
    )
    own = own_attractiveness * decay(own_km, config)
    return pull / (pull + own)


def regional_pseudo_stations(
    path: str | Path,
    zones: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    types: list[str],
    *,
    population_column: str,
    region_column: str | None,
) -> gpd.GeoDataFrame:
    """Published public-charger counts by region spread over zones by population, as one
    pseudo-station per zone at its demand centre (the coarse third-party layer).

    The CSV has ``region`` and ``piles_<type>`` columns (others, such as a ``source``, are
    ignored); ``region = "*"`` spreads over all zones. Zone z of region R gets
    ``piles_R * pop_z / pop_R`` piles of each type (fractional). A region may appear once.
    Rows of regions without zones are skipped when some row matches (a slice of a national
    table, ``fine_zones.regions``); none matching is an error (the wrong column or names).
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"region": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot be read as a CSV of piles by region ({error})") from None
    needed = ["region", *(f"piles_{t}" for t in types)]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}: add them (region, piles_<type>)")
    if region_column is not None and region_column not in zones.columns:
        raise InputError(
            f"{path}: the zones have no column '{region_column}' for the regions to match: set "
            "competition.region_chargers_column (or zones.region_column) to one they have"
        )
    columns = [f"piles_{t}" for t in types]
    counts_table = table[columns].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad_row, bad_column = np.nonzero(~(np.isfinite(counts_table) & (counts_table >= 0)))
    if len(bad_row):
        raise InputError(
            f"{path}: line {bad_row[0] + 2}, column '{columns[bad_column[0]]}': a pile count "
            "must be a number >= 0: fix it"
        )
    names = table["region"].fillna("").astype(str).str.strip().to_numpy()
    twice = pd.Series(names).duplicated().to_numpy()
    if twice.any():
        raise InputError(
            f"{path}: line {int(np.flatnonzero(twice)[0]) + 2}: region {names[twice][0]!r} "
            "appears twice: give each region one row"
        )
    population = pd.to_numeric(zones[population_column], errors="coerce").fillna(0.0)
    region = zones[region_column].astype(str).str.strip() if region_column else None
    regional = names != "*"
    matched = (
        pd.Index(names[regional]).isin(region.unique())
        if region is not None
        else np.zeros(int(regional.sum()), bool)
    )
    if len(matched) and not matched.any():  # a slice of the zones matches some rows only
        row = int(np.flatnonzero(regional)[0])
        raise InputError(
            f"{path}: line {row + 2}: region {names[row]!r} matches no zone's "
            f"'{region_column}': use the zones' region names or '*'"
        )
    piles = _spread_by_population(population, region, names, counts_table)
    out = gpd.GeoDataFrame(
        {"station_id": "region-" + zones.index.astype(str), "network": "", "own": False},
        geometry=centres.to_crs("EPSG:4326").values,
        crs="EPSG:4326",
    )
    for k, t in enumerate(types):
        out[f"ports_{t}"] = piles[:, k]
    return out[piles.sum(axis=1) > 0].reset_index(drop=True)


def _spread_by_population(
    population: pd.Series, region: pd.Series | None, names: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """``(Z, K)`` piles: each region's ``counts`` row spread over its zones by population,
    plus the ``"*"`` rows over every zone (vectorised over zones: a map, not a loop)."""
    weight = population.to_numpy(float)
    piles = np.zeros((len(population), counts.shape[1]))
    everywhere = names == "*"
    if everywhere.any() and weight.sum() > 0:
        piles += np.outer(weight / weight.sum(), counts[everywhere].sum(axis=0))
    if region is None or everywhere.all():
        return piles
    row = region.map(pd.Series(np.arange(len(names)), index=names)[~everywhere])
    has_row = row.notna().to_numpy()
    row_of = row.fillna(-1).to_numpy(np.int64)
    region_total = pd.Series(np.where(has_row, weight, 0.0)).groupby(row_of).transform("sum")
    total = region_total.to_numpy(float)
    share = np.divide(weight, total, out=np.zeros_like(weight), where=has_row & (total > 0))
    piles[has_row] += share[has_row, None] * counts[row_of[has_row]]
    return piles


def apply_choice_model(
    zones: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    stations: gpd.GeoDataFrame,
    types: list[str],
    config: CompetitionConfig,
    *,
    own_km: np.ndarray,
    crs: str,
) -> gpd.GeoDataFrame:
    """Zones with the demand third parties take removed (the module docstring's model).

    Adds ``third_party_share_<type>`` (:math:`P_{ik}`), ``kept_share_<type>``
    (:math:`\\min(1 - P_{ik}, T)`), ``captured_kwh_<type>`` and ``competitor_stations_near``,
    and scales ``peak_kwh_<type>`` and ``peak_kwh`` to the kept demand. ``stations`` are points
    with ``own`` and ``ports_<type>``; the brand's own (``own``) are not third parties.
    """
    out = zones.copy()
    rivals = stations[~stations["own"].to_numpy(bool)]
    zone_pts = centres.to_crs(crs).values
    zone_pos = rival_pos = np.zeros(0, np.int64)
    distance_km = np.zeros(0)
    if len(rivals):
        rival_pts = rivals.geometry.to_crs(crs).values
        tree = shapely.STRtree(rival_pts)
        zone_pos, rival_pos = tree.query(
            zone_pts, predicate="dwithin", distance=config.cutoff_km * 1000.0
        )
        distance_km = shapely.distance(zone_pts[zone_pos], rival_pts[rival_pos]) / 1000.0
    out["competitor_stations_near"] = np.bincount(zone_pos, minlength=len(out)).astype(np.int64)
    for t in types:
        piles = rivals[f"ports_{t}"].to_numpy(float)[rival_pos]
        share = third_party_share(
            zone_pos,
            distance_km,
            piles,
            own_km,
            config.own_preference * config.own_piles[t],
            config,
        )
        kept = np.minimum(1.0 - share, config.target_own_share)
        demand = out[f"peak_kwh_{t}"].to_numpy(float)
        out[f"third_party_share_{t}"] = share
        out[f"kept_share_{t}"] = kept
        out[f"captured_kwh_{t}"] = (1.0 - kept) * demand
        out[f"peak_kwh_{t}"] = kept * demand
    out["peak_kwh"] = out[[f"peak_kwh_{t}" for t in types]].sum(axis=1)
    return out


def own_reference_km(scenario: Scenario, zones: gpd.GeoDataFrame) -> np.ndarray:
    """``(Z,)`` :math:`r_i`: ``competition.own_reference_km`` if set, else the zone's
    service-standard distance in km (``[reach.standard]`` in km, by the zone's
    ``settlement``), else ``reach.service_radius_km``."""
    config = scenario.competition
    if config is not None and config.own_reference_km is not None:
        return np.full(len(zones), config.own_reference_km)
    standard = scenario.reach.standard
    if standard is None or standard.minutes or "settlement" not in zones.columns:
        return np.full(len(zones), scenario.reach.service_radius_km)
    return zones["settlement"].map(standard.reach).to_numpy(float)


def compete(
    scenario: Scenario,
    zones: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    stations: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """The scenario's ``[competition]`` applied to the zones: third parties are the
    non-own ``stations`` of ``[existing]`` plus the regional pseudo-stations of
    ``competition.region_chargers``."""
    config = scenario.competition
    if config is None:
        return zones
    types = scenario.charger_types
    layers = [] if stations is None else [stations]
    if config.region_chargers is not None:
        layers.append(
            regional_pseudo_stations(
                config.region_chargers,
                zones,
                centres,
                types,
                population_column=scenario.zones.population_column,
                region_column=config.region_chargers_column or scenario.zones.region_column,
            )
        )
    columns = ["station_id", "own", *(f"ports_{t}" for t in types), "geometry"]
    empty = gpd.GeoDataFrame({c: [] for c in columns}, geometry="geometry", crs="EPSG:4326")
    everyone = pd.concat([layer[columns] for layer in layers]) if layers else empty
    return apply_choice_model(
        zones,
        centres,
        gpd.GeoDataFrame(everyone, geometry="geometry", crs="EPSG:4326"),
        types,
        config,
        own_km=own_reference_km(scenario, zones),
        crs=scenario.reach.crs,
    )
