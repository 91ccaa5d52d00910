"""The scenario's ``[realism]`` section: the real networks a plan is compared with.

::

    [realism]
    # Published figures of real charging networks, one per row with its source.
    networks = "networks-cn.csv"

With it, a run writes ``networks.csv``: the plan's stations, stalls per station, DC share and
users per DC stall next to each published figure (:mod:`chargeplan.results.networks`,
``docs/networks.md``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from chargeplan.config.validation import Frozen

__all__ = ["RealismConfig"]


class RealismConfig(Frozen):
    """Real networks to compare the plan with.

    Attributes
    ----------
    networks
        CSV of published figures, ``network, figure, value, as_of, source``
        (:func:`chargeplan.results.networks.read_networks`); ``None``: no comparison.
    """

    networks: Path | None = None

    @field_validator("networks")
    @classmethod
    def _exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"file not found: {path} (the real networks' figures, a CSV)")
        return path
