"""``chargeplan batch --set KEY=VALUE[,VALUE...]``: the grid of scenario variants the ``--set``
options describe (a helper of :mod:`chargeplan.cli`)."""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Sequence

from chargeplan.errors import ChargeplanError

__all__ = ["set_values", "variants"]


def set_values(text: str) -> list[object]:
    """``1e7,2e7`` -> ``[1e7, 2e7]``: each value read as a TOML value, else kept as text."""
    values: list[object] = []
    for item in text.split(","):
        item = item.strip()
        try:
            values.append(tomllib.loads(f"v = {item}")["v"])
        except tomllib.TOMLDecodeError:
            values.append(item)
    return values


def variants(sets: Sequence[str]) -> list[tuple[str, dict[str, object]]]:
    """The grid of ``--set`` values: ``(name suffix, changes)`` per variant."""
    axes: list[list[tuple[str, str, object]]] = []
    for text in sets:
        key, sep, values = text.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise ChargeplanError(
                f"--set {text!r}: expected KEY=VALUE[,VALUE...], e.g. "
                "--set users.target_premium_users=1e7,2e7"
            )
        key = key.strip()
        raw = [v.strip() for v in values.split(",")]
        axes.append(list(zip([key] * len(raw), raw, set_values(values), strict=True)))
    short = {key: key.rsplit(".", 1)[-1] for key, _, _ in itertools.chain(*axes)}
    if len(set(short.values())) < len(short):
        short = {key: key for key in short}
    variants = []
    for combination in itertools.product(*axes):
        suffix = "".join(f"--{short[key]}={raw}" for key, raw, _ in combination)
        variants.append((suffix, {key: value for key, _, value in combination}))
    return variants
