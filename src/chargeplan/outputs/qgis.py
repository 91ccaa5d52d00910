"""QGIS layer styles saved inside ``plan.gpkg``: open the GeoPackage, the map is drawn.

QGIS reads a layer's default style from the GeoPackage table ``layer_styles`` (the table its
"Save Style... > In Database" writes: ``f_table_name``, ``f_geometry_column``, ``styleName``,
``styleQML``, ``useAsDefault``, ...). :func:`write_layer_styles` adds it with one QML style per
layer (:data:`STYLES`):

- ``sites``: built (blue) and not built (small grey) candidate sites (rule-based on ``open``);
- ``stations``: graduated marker size by ``chargers`` (5 classes);
- ``zones``: graduated fill by ``coverage``; ``gaps``: coloured by ``gap_reason``;
- ``assignment_lines``: graduated line width by ``peak_served_kwh``;
- ``proposed_sites``: orange stars; ``regions``: outlines.

The styles use the files' column names (:mod:`chargeplan.outputs.columns`).
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

__all__ = ["STYLES", "write_layer_styles"]

_HEAD = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
_TYPES = {"marker": "SimpleMarker", "line": "SimpleLine", "fill": "SimpleFill"}


def _symbol(name: str, kind: str, color: str, size: float, shape: str = "circle") -> str:
    """One QGIS symbol (marker size, line width or fill outline in mm), as QML."""
    props = {
        "marker": {"name": shape, "color": color, "size": size, "outline_color": "255,255,255,255"},
        "line": {"line_color": color, "line_width": size, "capstyle": "round"},
        "fill": {"color": color, "outline_color": "80,80,80,255", "outline_width": size},
    }[kind]
    options = "".join(f'<Option name="{k}" type="QString" value="{v}"/>' for k, v in props.items())
    legacy = "".join(f'<prop k="{k}" v="{v}"/>' for k, v in props.items())
    return (
        f'<symbol type="{kind}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="{_TYPES[kind]}" pass="0" locked="0" enabled="1">'
        f'<Option type="Map">{options}</Option>{legacy}</layer></symbol>'
    )


def _qml(renderer: str) -> str:
    return f'{_HEAD}<qgis version="3.28.0" styleCategories="Symbology">{renderer}</qgis>\n'


def single(kind: str, color: str, size: float, shape: str = "circle") -> str:
    """One symbol for every feature."""
    return _qml(
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{_symbol('0', kind, color, size, shape)}</symbols></renderer-v2>"
    )


def graduated(
    attr: str, kind: str, breaks: Sequence[float], colors: Sequence[str], sizes: Sequence[float]
) -> str:
    """Classes ``breaks[i] < attr <= breaks[i + 1]``, each with its colour and size."""
    ranges, symbols = [], []
    for i, (lower, upper) in enumerate(itertools.pairwise(breaks)):
        label = f"{lower:g} - {upper:g}" if upper < 1e300 else f"over {lower:g}"
        ranges.append(
            f'<range lower="{lower:g}" upper="{upper:g}" symbol="{i}" '
            f'label={quoteattr(label)} render="true"/>'
        )
        symbols.append(_symbol(str(i), kind, colors[i], sizes[i]))
    return _qml(
        f'<renderer-v2 type="graduatedSymbol" attr="{attr}" graduatedMethod="GraduatedColor" '
        'symbollevels="0" enableorderby="0" forceraster="0">'
        f"<ranges>{''.join(ranges)}</ranges><symbols>{''.join(symbols)}</symbols></renderer-v2>"
    )


def rules(kind: str, items: Sequence[tuple[str, str, str, float]]) -> str:
    """Rule-based: ``(filter expression, label, colour, size)`` per rule."""
    body, symbols = [], []
    for i, (expression, label, color, size) in enumerate(items):
        body.append(
            f'<rule key="rule-{i}" filter={quoteattr(expression)} label={quoteattr(label)} '
            f'symbol="{i}"/>'
        )
        symbols.append(_symbol(str(i), kind, color, size))
    return _qml(
        '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
        f'<rules key="root">{"".join(body)}</rules><symbols>{"".join(symbols)}</symbols>'
        "</renderer-v2>"
    )


_BIG = 1e308
_BLUES = ("198,219,239,255", "158,202,225,255", "107,174,214,255", "49,130,189,255", "8,81,156,255")
_REASONS = (
    ("unreachable", "215,48,39,180"),
    ("capacity_limited", "252,141,89,180"),
    ("budget_limited", "254,224,139,180"),
    ("not_built", "217,217,217,180"),
)

#: The QML style of each layer of ``plan.gpkg``.
STYLES: dict[str, str] = {
    "sites": rules(
        "marker",
        [
            ('"open"', "built", "31,120,180,255", 3.0),
            ('NOT "open"', "not built", "170,170,170,255", 1.2),
        ],
    ),
    "stations": graduated(
        "chargers", "marker", (0, 8, 24, 64, 200, _BIG), _BLUES, (2.0, 3.0, 4.5, 6.5, 9.0)
    ),
    "zones": graduated(
        "coverage",
        "fill",
        (-0.001, 0.5, 0.9, 0.999, 1.0),
        ("215,48,39,150", "252,141,89,150", "254,224,139,150", "145,207,96,150"),
        (0.1, 0.1, 0.1, 0.1),
    ),
    "gaps": rules(
        "fill", [(f"\"gap_reason\" = '{r}'", r.replace("_", " "), c, 0.2) for r, c in _REASONS]
    ),
    "assignment_lines": graduated(
        "peak_served_kwh",
        "line",
        (0, 100, 1_000, 10_000, _BIG),
        ("150,150,150,160", "120,120,120,180", "80,80,80,200", "40,40,40,220"),
        (0.2, 0.4, 0.8, 1.4),
    ),
    "proposed_sites": single("marker", "255,127,0,255", 4.0, "star"),
    "regions": single("fill", "0,0,0,0", 0.5),
}


def write_layer_styles(path: str | Path, styles: dict[str, str], *, stamp: str) -> list[str]:
    """Save ``styles`` (layer name -> QML) as the layers' default QGIS styles in ``path``.

    Parameters
    ----------
    path
        A GeoPackage holding the layers (written to, in place: call it on the staging file).
    styles
        QML per layer; layers the GeoPackage lacks are skipped.
    stamp
        ``update_time`` of every style (a fixed time keeps the file reproducible).

    Returns
    -------
    list[str]
        The layers styled.
    """
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        geometry = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        db.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
            "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
            "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
            "update_time DATETIME)"
        )
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
            "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', ?)",
            (stamp,),
        )
        styled = [name for name in styles if name in geometry]
        db.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
            [
                (name, geometry[name], name, styles[name], f"chargeplan: {name}", stamp)
                for name in styled
            ],
        )
    return styled
