"""A scenario variant's name: what ``Scenario.with_values`` changed, short
(``china-2030 target=10M``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["changes_label"]

#: Short names of keys in a scenario's name (:func:`changes_label`); others go by their leaf.
_SHORT_KEYS = {"users.target_premium_users": "target", "model.budget_cny": "budget"}


def _compact(value: Any) -> str:
    """``10000000`` -> ``10M``, ``5e9`` -> ``5bn``, ``2500`` -> ``2.5k``; other values as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if size <= abs(value) < 1e4 * size:
            return f"{value / size:.4g}{suffix}"
    return f"{value:g}"


def changes_label(scenario: BaseModel, changes: Mapping[str, Any]) -> str:
    """``"target=10M budget=5bn"``: the changes that alter what a scenario asks for.

    Keys under ``solver.`` and ``decompose.`` (how a plan is found), ``name`` and
    ``description``, and values equal to the scenario's own are left out.
    """
    current = scenario.model_dump()
    parts = []
    for dotted, value in changes.items():
        if dotted.split(".")[0] in ("solver", "decompose", "name", "description"):
            continue
        node: Any = current
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node == value:
            continue
        parts.append(f"{_SHORT_KEYS.get(dotted, dotted.rsplit('.', 1)[-1])}={_compact(value)}")
    return " ".join(parts)
