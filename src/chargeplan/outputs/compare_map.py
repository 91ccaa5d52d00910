"""A map of what changed between two plans: sites added, removed and resized over the zones.

:func:`plot_changes` draws :attr:`chargeplan.results.compare.Comparison.sites` as a PNG:
the zones of plan B in light grey, then each site by its ``change`` (added green, removed red,
changed orange, same grey), its marker area proportional to the absolute change in chargers
(sites whose chargers did not change drawn small).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from chargeplan.config.defaults import DEFAULT_CRS
from chargeplan.outputs.files import atomic_path
from chargeplan.results.compare import CHANGES, Comparison

__all__ = ["COLOURS", "plot_changes"]

#: Marker colour of each ``change``.
COLOURS = {"added": "#1a9850", "removed": "#d73027", "changed": "#fc8d59", "same": "#bdbdbd"}


def plot_changes(
    comparison: Comparison,
    zones: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str = "",
    crs: str = DEFAULT_CRS,
) -> Path:
    """Write the map of ``comparison`` over ``zones`` to ``path`` (PNG, written atomically).

    Parameters
    ----------
    comparison
        Of :func:`chargeplan.results.compare.compare`.
    zones
        The zones to draw underneath (e.g. plan B's).
    path
        The PNG to write.
    title
        Drawn above the map.
    crs
        Map projection (equal-area Albers for China by default).

    Returns
    -------
    pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sites = comparison.sites.to_crs(crs)
    delta = np.zeros(len(sites))
    for column in [c for c in sites.columns if c.endswith("_delta")]:
        delta += np.abs(sites[column].to_numpy(float))
    size = 6 + 200 * np.sqrt(delta / max(float(delta.max()), 1.0))
    fig, ax = plt.subplots(figsize=(10, 8))
    try:
        zones.to_crs(crs).plot(ax=ax, color="#f0f0f0", edgecolor="#d9d9d9", linewidth=0.2)
        counts = comparison.counts()
        for change in reversed(CHANGES):  # "same" first, underneath
            mask = (sites["change"] == change).to_numpy()
            if mask.any():
                ax.scatter(
                    sites.geometry.x[mask],
                    sites.geometry.y[mask],
                    s=size[mask],
                    c=COLOURS[change],
                    edgecolors="white",
                    linewidths=0.3,
                    label=f"{change} ({counts[change]})",
                )
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], loc="lower left", frameon=False)
        ax.set_axis_off()
        ax.set_title(title)
        with atomic_path(Path(path)) as tmp:
            fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    finally:
        plt.close(fig)
    return Path(path)
