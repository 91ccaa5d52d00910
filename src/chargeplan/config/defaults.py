"""Defaults shared by several stages, each named once (no imports: any stage may use them)."""

from __future__ import annotations

#: The metric CRS distances are measured in unless a scenario says otherwise (``reach.crs``):
#: Asia North Albers Equal Area, in metres, which suits all of China.
DEFAULT_CRS = "ESRI:102025"

#: A radius in kilometres above this is almost surely given in metres.
MAX_RADIUS_KM = 2_000.0

#: Highest penalty on unmet demand, CNY per kWh. HiGHS solves in double precision with
#: tolerances near 1e-6 to 1e-9 and treats costs from 1e20 as infinite: a penalty of 1e300
#: overflows it (the solve fails and the run blamed the time limit), and any penalty beyond
#: about 1e12 drowns the capex of a whole network (1e10 to 1e11 CNY) below its tolerances, so
#: the plan's costs would be noise. 1e12 CNY/kWh is a million times any real charging price and
#: still forces every reachable kWh to be served.
MAX_UNMET_PENALTY_CNY_PER_KWH = 1e12
