"""H3 parents and children of many cells at once, by arithmetic on the 64-bit index.

An H3 cell index (mode 1) holds its resolution ``r`` in bits 52-55, its base cell in bits
45-51 and one 3-bit digit per resolution ``k = 1..15`` at bit ``3 (15 - k)``; the digits of
the resolutions finer than ``r`` are 7 (unused). So the parent at resolution ``p < r`` is the
index with the resolution field set to ``p`` and digits ``p+1..r`` set to 7, and the children
at ``c > r`` are the indexes with the resolution field ``c`` and digits ``r+1..c`` running
over ``0..6`` (``7^(c-r)`` children, in increasing index order). The exception is a pentagon
(a pentagon base cell with every digit 0 so far): its descendants never take digit 1 (the
deleted axis) as their first nonzero digit, so it has fewer children, and they come from h3's
own ``cell_to_children`` (no pentagon lies in China). ``tests/test_national_layer.py`` checks
both against h3.
"""

from __future__ import annotations

import h3
import numpy as np

__all__ = ["cell_children", "cell_parents", "cell_resolutions"]

_RES_SHIFT = np.uint64(52)
_RES_MASK = np.uint64(0xF << 52)
_BASE_SHIFT = np.uint64(45)
_BASE_MASK = np.uint64(0x7F)
#: Base cells that are pentagons (h3.get_pentagons(0), as base-cell numbers).
_PENTAGON_BASES = np.array([4, 14, 24, 38, 49, 58, 63, 72, 83, 97, 107, 117], np.uint64)


def _digit_mask(first: int, last: int) -> np.uint64:
    """Bits of digits ``first..last`` (all ones)."""
    mask = 0
    for k in range(first, last + 1):
        mask |= 7 << (3 * (15 - k))
    return np.uint64(mask)


def cell_resolutions(cells: np.ndarray) -> np.ndarray:
    """Resolution of each cell (``uint64`` indexes), as ``int64``."""
    return ((np.asarray(cells, np.uint64) & _RES_MASK) >> _RES_SHIFT).astype(np.int64)


def cell_parents(cells: np.ndarray, resolution: int, parent_resolution: int) -> np.ndarray:
    """Parents at ``parent_resolution`` of cells all at ``resolution`` (``uint64`` in, out)."""
    if not 0 <= parent_resolution <= resolution <= 15:
        raise ValueError(f"parent resolution {parent_resolution} not in 0..{resolution}")
    cells = np.asarray(cells, np.uint64)
    cleared = cells & ~_RES_MASK
    return (
        cleared
        | np.uint64(parent_resolution << 52)
        | _digit_mask(parent_resolution + 1, resolution)
    )


def _is_pentagon(cells: np.ndarray, resolution: int) -> np.ndarray:
    base = (cells >> _BASE_SHIFT) & _BASE_MASK
    digits_zero = (cells & _digit_mask(1, resolution)) == 0 if resolution else True
    return np.isin(base, _PENTAGON_BASES) & digits_zero


def cell_children(
    cells: np.ndarray, resolution: int, child_resolution: int
) -> tuple[np.ndarray, np.ndarray]:
    """Children at ``child_resolution`` of cells all at ``resolution``.

    Returns
    -------
    children, parent
        The children (``uint64``) and the position in ``cells`` of each one's parent; grouped
        by parent in input order, in increasing index order within a parent.
    """
    if not 0 <= resolution <= child_resolution <= 15:
        raise ValueError(f"child resolution {child_resolution} not in {resolution}..15")
    cells = np.asarray(cells, np.uint64)
    steps = child_resolution - resolution
    # digit offsets of the 7^steps children: k in base 7, digit j at resolution resolution+j
    k = np.arange(7**steps, dtype=np.uint64)
    offsets = np.zeros(k.size, np.uint64)
    for j in range(steps):  # a loop over resolutions (at most 15), not over cells
        digit = (k // np.uint64(7 ** (steps - 1 - j))) % np.uint64(7)
        offsets |= digit << np.uint64(3 * (15 - (resolution + 1 + j)))
    stem = (cells & ~_RES_MASK & ~_digit_mask(resolution + 1, child_resolution)) | np.uint64(
        child_resolution << 52
    )
    children = (stem[:, None] | offsets[None, :]).ravel()
    parent = np.repeat(np.arange(cells.size), k.size)
    pentagon = _is_pentagon(cells, resolution)
    if not pentagon.any():
        return children, parent
    pentagons = np.flatnonzero(pentagon)
    extra = [_h3_children(cells[i], child_resolution) for i in pentagons]
    keep = ~pentagon[parent]
    children = np.concatenate([children[keep], *extra])
    owners = [np.full(e.size, i) for i, e in zip(pentagons, extra, strict=True)]
    parent = np.concatenate([parent[keep], *owners])
    order = np.lexsort((children, parent))
    return children[order], parent[order]


def _h3_children(cell: np.uint64, child_resolution: int) -> np.ndarray:
    """A cell's children from h3 itself (for pentagons), sorted, as ``uint64``."""
    found = h3.cell_to_children(h3.int_to_str(int(cell)), child_resolution)
    return np.array(sorted(h3.str_to_int(c) for c in found), np.uint64)
