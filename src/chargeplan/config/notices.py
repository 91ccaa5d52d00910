"""The scenario's ``[warnings]`` section: data warnings the planner has read and accepts.

A scenario lists the warnings it knows about, each by a piece of its text::

    [warnings]
    # Hong Kong and Macao take the propensity of Shenzhen and Zhuhai (users.proxies): known
    acknowledge = ["as users.proxies says"]

Every data warning (:class:`~chargeplan.inputs.demand.DemandWarning`, input warnings) whose
text contains one of them is not shown while the scenario is prepared
(:meth:`WarningsConfig.hidden`); every other warning still is, once per text.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator

from pydantic import Field

from chargeplan.config.validation import Frozen

__all__ = ["WarningsConfig"]


class WarningsConfig(Frozen):
    """Data warnings a scenario acknowledges.

    Attributes
    ----------
    acknowledge
        Pieces of warning text (plain text, matched anywhere in the message, case-sensitive);
        a warning containing one is hidden. Default: none (every warning shown).
    """

    acknowledge: list[str] = Field(default_factory=list)

    @contextlib.contextmanager
    def hidden(self) -> Iterator[None]:
        """Hide the acknowledged warnings inside the ``with`` block (the command line shows
        each other warning once per text, however often ``prepare`` runs)."""
        with warnings.catch_warnings():
            for text in self.acknowledge:
                warnings.filterwarnings("ignore", message=f"(?s).*{re.escape(text)}")
            yield
