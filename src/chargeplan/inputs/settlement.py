"""Settlement type per zone: urban, suburban or rural, by density or from a named column.

:func:`classify_settlement` adds a ``settlement`` column (and ``density_per_km2``) to the
zones. The density rule is the Degree of Urbanisation's grid thresholds applied to each zone
(or H3 cell) as a whole (:class:`~chargeplan.config.service.ServiceStandard`):

.. math:: \\text{settlement}_i = \\begin{cases}
    \\text{urban} & \\rho_i \\ge \\rho_u \\\\
    \\text{suburban} & \\rho_s \\le \\rho_i < \\rho_u \\\\
    \\text{rural} & \\rho_i < \\rho_s \\end{cases}
    \\qquad \\rho_i = \\frac{\\text{population}_i}{\\text{area}_i \\text{ in km}^2}

with :math:`\\rho_u = 1{,}500` and :math:`\\rho_s = 300` people per km2 by default. Areas are
measured in the scenario's metric CRS (``reach.crs``). A zone without area (a point) needs the
user's column.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from chargeplan.config.service import SETTLEMENT_TYPES, ServiceStandard
from chargeplan.errors import InputError
from chargeplan.inputs.checks import as_float, check_values, locate_rows, plural, require_columns

__all__ = ["classify_settlement", "settlement_by_density"]


def settlement_by_density(
    density_per_km2: np.ndarray,
    *,
    urban_min_per_km2: float = 1500.0,
    suburban_min_per_km2: float = 300.0,
) -> np.ndarray:
    """``(Z,)`` settlement type of each density (people per km2), as object strings."""
    density = np.asarray(density_per_km2, float)
    kind = np.full(density.shape, "rural", dtype=object)
    kind[density >= suburban_min_per_km2] = "suburban"
    kind[density >= urban_min_per_km2] = "urban"
    return kind


def classify_settlement(
    zones: gpd.GeoDataFrame,
    *,
    population_column: str,
    crs: str,
    standard: ServiceStandard | None = None,
    source: str = "zones",
    id_columns: tuple[str, ...] = (),
) -> gpd.GeoDataFrame:
    """The zones with ``density_per_km2`` and ``settlement`` (urban / suburban / rural).

    Parameters
    ----------
    zones
        Demand zones (polygons, or points with ``settlement_column``).
    population_column
        People per zone.
    crs
        A metric CRS the areas are measured in.
    standard
        Its density thresholds (the Degree of Urbanisation's 1,500 and 300 per km2 by
        default) and ``settlement_column``: a column whose values (``urban``, ``suburban``,
        ``rural``; case and blanks ignored) are used instead of the density rule.
    source, id_columns
        For messages: where the zones come from, and the id columns naming a row.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``zones`` with the two columns (``density_per_km2`` is NaN for points).

    Raises
    ------
    InputError
        Naming the source, the rows and the fix, for an unknown settlement value, a missing
        column, or a zone with no area and no settlement column.
    """
    standard = standard or ServiceStandard()
    out = zones.copy()
    area_km2 = out.geometry.to_crs(crs).area.to_numpy() / 1e6
    require_columns(out, source, [population_column], geometry_name=out.geometry.name)
    people = as_float(out, population_column, source, id_columns)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["density_per_km2"] = np.where(area_km2 > 0, people / area_km2, np.nan)
    if standard.settlement_column is not None:
        column = standard.settlement_column
        out["settlement"] = _named_settlement(out, column, source, id_columns)
        return out
    density = out["density_per_km2"].to_numpy()
    no_area = ~np.isfinite(density)
    if no_area.any():
        raise InputError(
            f"{source}: {plural(int(no_area.sum()), 'zone')} without area "
            f"({locate_rows(out, no_area, id_columns)}) cannot be classified by density: give "
            "polygons, or name a column of urban/suburban/rural values in "
            "reach.standard.settlement_column"
        )
    check_values(
        out, source, population_column, people, id_columns, allow_nan=False, nonnegative=True
    )
    out["settlement"] = settlement_by_density(
        density,
        urban_min_per_km2=standard.urban_min_per_km2,
        suburban_min_per_km2=standard.suburban_min_per_km2,
    )
    return out


def _named_settlement(
    zones: pd.DataFrame, column: str, source: str, id_columns: tuple[str, ...]
) -> np.ndarray:
    """The user's settlement column, normalised; an unknown or missing value is an error."""
    if column not in zones.columns:
        require_columns(zones, source, [column])
    text = zones[column].astype("string").str.strip().str.lower()
    bad = ~text.isin(SETTLEMENT_TYPES).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        shown = sorted({str(v) for v in zones[column][bad].head(5)})
        raise InputError(
            f"{source}: column '{column}' (reach.standard.settlement_column) has "
            f"{plural(int(bad.sum()), 'value')} other than urban, suburban or rural "
            f"({locate_rows(zones, bad, id_columns)}; e.g. {', '.join(map(repr, shown))}): "
            "write one of those three words in each row"
        )
    return text.to_numpy(dtype=object)
