"""Polygons drawn in matplotlib from whole shapely arrays, for maps of hundreds of thousands of
zones.

``GeoSeries.plot`` builds one matplotlib path per polygon in Python (about 0.3 ms each: two
minutes for the 391,185 H3 cells of a national plan, two layers); here the rings' coordinates
come out of shapely in one call (``shapely.get_coordinates``) and the drawing codes are set with
numpy. Zones of one colour become one compound path (nothing per zone); zones of their own
colours one path each; either in one :class:`~matplotlib.collections.PathCollection`. A
polygon's holes are rings of its path, filled by the even-odd rule the rings' orientation
gives (matplotlib fills by the nonzero rule: shapely writes exteriors and holes in opposite
orientations once normalised by :func:`shapely.orient_polygons`). The picture is the one
``GeoSeries.plot`` draws, without the faint seams that anti-aliasing leaves between
neighbouring cells drawn one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.path import Path as MplPath

__all__ = ["draw_polygons", "polygon_vertices"]


def polygon_vertices(geometries: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vertices and path codes of polygons, and where each polygon starts.

    Parameters
    ----------
    geometries
        Polygons and multipolygons (a GeoSeries or an array of shapely geometries); empty or
        missing ones draw nothing.

    Returns
    -------
    vertices : numpy.ndarray
        ``(n, 2)`` coordinates of every ring, rings closed (last vertex = first).
    codes : numpy.ndarray
        matplotlib path codes: ``MOVETO`` at each ring's first vertex, ``CLOSEPOLY`` at its
        last, ``LINETO`` between.
    starts : numpy.ndarray
        ``len(geometries) + 1`` offsets into ``vertices``: geometry ``i`` is
        ``vertices[starts[i]:starts[i + 1]]``.
    """
    import shapely

    geoms = np.asarray(geometries, dtype=object)
    parts, part_of = shapely.get_parts(shapely.orient_polygons(geoms), return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    vertices, vertex_of = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(vertices), MplPath.LINETO, dtype=MplPath.code_type)
    if len(vertices):
        first = np.r_[True, vertex_of[1:] != vertex_of[:-1]]
        last = np.r_[vertex_of[1:] != vertex_of[:-1], True]
        codes[first] = MplPath.MOVETO
        codes[last] = MplPath.CLOSEPOLY
    owner = part_of[ring_of[vertex_of]] if len(vertices) else np.zeros(0, dtype=np.intp)
    starts = np.searchsorted(owner, np.arange(len(geoms) + 1))
    return vertices, codes, starts


def _paths(vertices: np.ndarray, codes: np.ndarray, starts: np.ndarray) -> list[MplPath]:
    """One path per geometry, the ``MplPath(vertices[a:b], codes[a:b])`` of each, made without
    the constructor's checks (half the time: 166,000 seven-vertex rings, as many as the
    national map's gap zones, 0.64 s instead of 1.30 s of CPU at load 5).

    The checks hold by construction (``(n, 2)`` floats, codes of ``code_type`` starting with
    ``MOVETO``), and what the constructor derives is the same for every path: a ring ends in
    ``CLOSEPOLY``, so none is simplified (matplotlib simplifies only paths of lines), copied
    from a template path made by the constructor.
    """
    bounds = zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)
    make = getattr(MplPath, "_fast_from_codes_and_verts", None)  # private: may go in a release
    if make is None:
        return [MplPath(vertices[a:b], codes[a:b]) for a, b in bounds]
    template = MplPath(np.zeros((1, 2)), np.array([MplPath.MOVETO], MplPath.code_type))
    return [make(vertices[a:b], codes[a:b], internals_from=template) for a, b in bounds]


def draw_polygons(
    ax: Axes,
    geometries: Any,
    *,
    facecolor: str | Sequence[float] | np.ndarray,
    edgecolor: str = "none",
    linewidth: float = 0.0,
    zorder: float = 1,
) -> PathCollection:
    """Draw polygons on ``ax`` as one collection: one path if they share one face colour.

    Parameters
    ----------
    ax
        The axes.
    geometries
        Polygons and multipolygons, in the axes' coordinates.
    facecolor
        One colour, or one RGBA row per geometry.
    edgecolor, linewidth
        The outlines (none when ``linewidth`` is 0).
    zorder
        Drawing order.

    Returns
    -------
    matplotlib.collections.PathCollection
        What was added to ``ax``: one compound path, or one path per geometry.
    """
    vertices, codes, starts = polygon_vertices(geometries)
    colours = np.asarray(facecolor) if not isinstance(facecolor, str) else None
    if colours is None or colours.ndim == 1:
        # one compound path: ``ax.add_patch`` would measure its limits curve by curve in Python
        paths = [MplPath(vertices, codes)]
    else:
        paths = _paths(vertices, codes, starts)
    artist = PathCollection(
        paths,
        facecolors=facecolor if colours is None or colours.ndim == 1 else colours,
        edgecolors=edgecolor if linewidth > 0 else "none",
        linewidths=linewidth,
        zorder=zorder,
    )
    ax.add_collection(artist, autolim=False)
    ax.update_datalim(vertices if len(vertices) else np.zeros((0, 2)))
    ax.autoscale_view()
    return artist
