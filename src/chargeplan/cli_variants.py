"""``chargeplan batch --set KEY=VALUE[,VALUE...]``: the grid of scenario variants the ``--set``
options describe (a helper of :mod:`chargeplan.cli`)."""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Sequence

from chargeplan.errors import ChargeplanError

__all__ = ["amount", "set_values", "variants"]

#: Suffixes of amounts, as ``chargeplan curve --targets`` reads them (any case).
_SUFFIXES = {"k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9}
_AMOUNT = re.compile(r"([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(k|m|bn|b)?")


def amount(text: str) -> int | float | None:
    """``"20M"`` -> ``20000000``, ``"4bn"`` -> ``4000000000``, ``"2.5e6"`` -> ``2500000``;
    ``None`` if ``text`` is no amount. Whole amounts are ``int`` (a user target must be)."""
    match = _AMOUNT.fullmatch(text.strip().lower())
    if match is None:
        return None
    value = float(match.group(1)) * _SUFFIXES.get(match.group(2) or "", 1.0)
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def set_values(text: str) -> list[object]:
    """``1e7,2e7`` -> ``[1e7, 2e7]``, ``20M,4bn`` -> ``[20000000, 4000000000]``: each value
    read as a TOML value, else as an amount (:func:`amount`), else kept as text."""
    values: list[object] = []
    for item in text.split(","):
        item = item.strip()
        try:
            values.append(tomllib.loads(f"v = {item}")["v"])
        except tomllib.TOMLDecodeError:
            number = amount(item)  # 20M, 4bn
            values.append(item if number is None else number)
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
