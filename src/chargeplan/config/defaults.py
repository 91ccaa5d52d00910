"""Defaults shared by several stages, each named once (no imports: any stage may use them)."""

from __future__ import annotations

#: The metric CRS distances are measured in unless a scenario says otherwise (``reach.crs``):
#: Asia North Albers Equal Area, in metres, which suits all of China.
DEFAULT_CRS = "ESRI:102025"

#: A radius in kilometres above this is almost surely given in metres.
MAX_RADIUS_KM = 2_000.0
