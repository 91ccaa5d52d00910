r"""The windows of :mod:`chargeplan.solver.design_lns`: which sites each window's MIP re-chooses.

**A window.** A seed site and the sites nearest to it in the reach graph, grown greedily: the
site sharing the most zones in reach with the window so far joins next (ties: the lower
position), up to ``size`` sites (sites with a ``y`` column only).

**A pass** takes the seeds in a fixed order (pass 0 by position, pass 1 in reverse, each later
pass a fixed permutation of its own) and grows each window from a seed not yet in a window of
the pass through sites not yet in one either: each pass cuts the eligible sites into disjoint
windows, a later pass along other borders. Everything is a function of the reach graph: the
windows depend on the model only.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from chargeplan.model.index import ModelIndex
from chargeplan.model.problem import FacilityProblem
from chargeplan.solver.design_search import _neighbours

__all__ = ["pass_windows", "windows"]


def windows(problem: FacilityProblem, ix: ModelIndex, size: int, passes: int) -> list[np.ndarray]:
    """The windows of every pass, in the order they are solved (module docstring): each an
    array of at most ``size`` site positions (sorted), all with a ``y`` column."""
    return [members for found in pass_windows(problem, ix, size, passes) for members in found]


def pass_windows(
    problem: FacilityProblem, ix: ModelIndex, size: int, passes: int
) -> Iterator[list[np.ndarray]]:
    """The windows of each of ``passes`` passes (module docstring), one list per pass, each
    pass cut only when asked for (a caller that stops after a pass builds no more)."""
    n_sites = len(problem.site_ids)
    eligible = np.zeros(n_sites, bool)
    eligible[ix.y_site] = True
    neighbours = _neighbours(problem)
    for p in range(passes):
        seeds = np.flatnonzero(eligible)
        if p == 1:  # the first pass's order reversed: windows across its borders
            seeds = seeds[::-1]
        elif p > 1:
            seeds = seeds[np.random.default_rng(p).permutation(seeds.size)]
        covered = np.zeros(n_sites, bool)
        found = []
        for seed in seeds.tolist():  # a loop over sites, not pairs
            if covered[seed]:
                continue
            members = _grown(neighbours, eligible & ~covered, seed, size)
            covered[members] = True
            found.append(members)
        yield found


def _grown(neighbours: sp.csr_matrix, eligible: np.ndarray, seed: int, size: int) -> np.ndarray:
    """The window of ``seed``: sites joined one by one, each the eligible site sharing the most
    zones with the window so far (ties: the lower position); fewer if none is connected."""
    score = np.zeros(len(eligible))
    inside = np.zeros(len(eligible), bool)
    members = [seed]
    inside[seed] = True
    for _ in range(size - 1):
        row = neighbours[members[-1]]
        score[row.indices] += row.data
        open_to = np.where(eligible & ~inside & (score > 0), score, 0.0)
        best = int(np.argmax(open_to))
        if open_to[best] <= 0:
            break
        members.append(best)
        inside[best] = True
    return np.sort(np.asarray(members, dtype=np.int64))
