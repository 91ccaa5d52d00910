r"""The most NPV subject to a service standard (``model.objective = "max_npv"``), and state
support in the least-cost objective, as linear functions of the model's decisions.

Symbols of ``docs/model.md`` (sites :math:`j`, zones :math:`i`, types :math:`k`, designs
:math:`d`, shares :math:`x_{ijk}`, unmet :math:`u_{ik}`, openings :math:`y_j`, chargers
:math:`n_{jk}` with existing :math:`E_{jk}`, upgrades :math:`g_j`, designs :math:`z_{jd}`,
shortfalls :math:`s_g`), years of operation :math:`t = 1..T` and discount factors
:math:`\delta_t = (1+\rho)^{-t}`. The station economics of :mod:`chargeplan.results.economics`
make these per-site coefficients (:class:`NpvTerms`,
:func:`chargeplan.inputs.npv_terms.npv_terms`):

- :math:`e_j`: the present value of one design-hour kWh served at :math:`j` a day, over the
  lifetime: :math:`e_j = \kappa \sum_t \delta_t (r_j - \varphi g_j + o^{kWh}_{jt})` with
  :math:`\kappa = 365 / (\phi (1 - s))` the year's kWh per design-hour kWh (non-brand energy
  included), :math:`r_j` earned and :math:`g_j` paid per kWh, :math:`\varphi` the payment fee
  share and :math:`o^{kWh}` operation support per kWh (uncapped sites);
- :math:`L_j = \sum_t \delta_t L_s (1 - \text{rent}_{jt})`: the lease of an open station;
- :math:`h_{jk} = \sum_t \delta_t (m_k + L_c (1 - \text{rent}_{jt}) + 12 D \beta P_k
  (1 - \text{ex}_{jt}) - o^{kW}_{jt} P_k)`: maintenance, bay lease and demand charge of a
  charger (:math:`\beta` kVA per kW; with designs the demand charge is the design's,
  :math:`q_{jd} = \sum_t \delta_t 12 D V_d (1 - \text{ex}_{jt})`) net of operation support per
  kW-year (uncapped sites);
- :math:`c_{jk}`: construction support per new charger, :math:`\bar c_j` its station cap.

The plan's NPV, a linear function of the decisions (plus the caps, below):

.. math::

    \mathrm{NPV} = \sum_j e_j \sum_{(i,j) \in P, k} d_{ik} x_{ijk} - \text{capex}
      + \sum_{jk} c_{jk} (n_{jk} - E_{jk}) - \sum_j L_j y_j - \sum_{jk} h_{jk} n_{jk}
      - \sum_{jd} q_{jd} z_{jd}

with capex as in :func:`~chargeplan.model.objective.capex_vector`. ``max_npv`` maximises it
subject to the service standard: it minimises

.. math::

    -\mathrm{NPV} + \sum_{ik} \pi_k d_{ik} u_{ik} + \sum_g \sigma_g s_g

(unmet-demand price :math:`\pi_k`, coverage targets :math:`\sigma_g s_g`:
:mod:`chargeplan.model.targets`). :func:`npv_problem` writes it as a ``min_cost`` problem with
non-negative coefficients, so that the reductions, the covering checks and the solver paths
stay as they are: with :math:`a^* = \max(0, \max_j e_j)` and :math:`\sum_j x_{ijk} + u_{ik} = 1`,
:math:`-\sum_j e_j d_{ik} x_{ijk} = \sum_j (a^* - e_j) d_{ik} x_{ijk} + a^* d_{ik} u_{ik} - a^*
d_{ik}`, so the pair cost becomes :math:`(a^* - e_j) d_{ik}` (access cost left out: it is not
the operator's), the unmet price :math:`\pi_k + a^*`, the fixed cost :math:`f_j + L_j` and the
charger cost :math:`p_{jk} - c_{jk} + h_{jk}`; the objective then is :math:`-\mathrm{NPV} +
\text{penalties} + a^* \sum_{ik} d_{ik} - \sum_{jk} h_{jk} E_{jk}` (:attr:`NpvProblem.offset`).

**Caps** make support a concave function of the decisions, which a maximisation can carry
exactly with one variable per cap (:func:`support_extension`, added to the Pyomo model):
construction support :math:`v_j \le \bar c_j`, :math:`v_j \le \sum_k c_{jk} (n_{jk} - E_{jk})`,
objective :math:`-v_j`; operation support in year :math:`t` at a capped site :math:`w_{jt} \le
\bar o_{jt}`, :math:`w_{jt} \le \kappa o^{kWh}_{jt} \sum_{i,k} d_{ik} x_{ijk} + \sum_k o^{kW}_{jt}
P_k n_{jk}`, objective :math:`-\delta_t w_{jt}`. The optimum takes each at the smaller bound,
the capped support. Sites whose uncapped per-kW support would make :math:`h_{jk} < 0` go the
same way (with no cap), so every coefficient of the ``min_cost`` problem stays :math:`\ge 0`.
With station designs the per-charger terms :math:`h_{jk} - c_{jk}` and :math:`q_{jd}` are
added there too (a design's capex is the same at every site).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from chargeplan.errors import InputError
from chargeplan.model.designs import design_of
from chargeplan.model.problem import FacilityProblem
from chargeplan.model.solution import Solution, objective_value

if TYPE_CHECKING:
    import pyomo.environ as pyo

__all__ = [
    "ConstructionSupport",
    "NpvProblem",
    "NpvTerms",
    "construction_extension",
    "npv_of_decisions",
    "npv_problem",
    "support_extension",
]


@dataclass(frozen=True)
class ConstructionSupport:
    """Construction support: ``per_charger`` ``(S, K)`` CNY per new charger :math:`c_{jk}`,
    ``cap`` ``(S,)`` per station :math:`\\bar c_j` (``inf``: none)."""

    per_charger: np.ndarray
    cap: np.ndarray

    @property
    def capped(self) -> np.ndarray:
        """``(S,)`` bool: sites whose support has a cap (carried by a variable)."""
        return np.isfinite(self.cap) & (self.per_charger.sum(axis=1) > 0)


@dataclass(frozen=True)
class NpvTerms:
    """The per-site coefficients of the NPV (module docstring), over a problem's sites.

    Attributes
    ----------
    revenue_per_kwh
        ``(S,)`` :math:`e_j`, CNY of present value per design-hour kWh served.
    station_cost
        ``(S,)`` :math:`L_j`, present value of an open station's lease.
    charger_cost
        ``(S, K)`` :math:`h_{jk}`, present value of a charger's running cost net of uncapped
        operation support per kW.
    design_cost
        ``(S, D)`` :math:`q_{jd}`, present value of a design's demand charge (``None``: no
        designs).
    construction
        Construction support and its caps.
    operation_per_kwh, operation_per_charger, operation_cap
        Operation support at the sites that carry it by variables (``extended``): per
        design-hour kWh and year :math:`\\kappa o^{kWh}_{jt}` ``(S, T)``, per charger and year
        :math:`o^{kW}_{jt} P_k` ``(S, K, T)`` and the cap :math:`\\bar o_{jt}` ``(S, T)``
        (``inf``: none); zero elsewhere.
    discount
        ``(T,)`` :math:`\\delta_t`.
    """

    revenue_per_kwh: np.ndarray
    station_cost: np.ndarray
    charger_cost: np.ndarray
    design_cost: np.ndarray | None
    construction: ConstructionSupport
    operation_per_kwh: np.ndarray
    operation_per_charger: np.ndarray
    operation_cap: np.ndarray
    discount: np.ndarray

    @property
    def extended(self) -> np.ndarray:
        """``(S,)`` bool: sites whose operation support is carried by variables."""
        return (self.operation_per_kwh.sum(axis=1) > 0) | (
            self.operation_per_charger.sum(axis=(1, 2)) > 0
        )


@dataclass(frozen=True)
class NpvProblem:
    """``max_npv`` as a ``min_cost`` problem (:func:`npv_problem`).

    ``problem`` is solved with ``extension`` (``None`` if nothing needs variables); its
    objective is :math:`-\\mathrm{NPV} + \\text{penalties} + \\text{offset}`.
    """

    problem: FacilityProblem
    extension: Any
    offset: float


def npv_problem(problem: FacilityProblem, terms: NpvTerms) -> NpvProblem:
    """The ``min_cost`` problem whose optimum is the most NPV subject to the service standard.

    ``problem``: the least-cost problem of the same plan (its unmet price and coverage targets
    are the service standard; its pair costs, the access cost, are dropped). See the module
    docstring for the transformation; every coefficient stays :math:`\\ge 0`.
    """
    if problem.budget is not None:
        raise InputError("max_npv takes no budget: the budget row would count the opex")
    best = max(0.0, float(terms.revenue_per_kwh.max(initial=0.0)))
    per_unit = best - terms.revenue_per_kwh[problem.pair_site]  # (P,) >= 0
    support = np.where(terms.construction.capped[:, None], 0.0, terms.construction.per_charger)
    designs = problem.design_capex is not None
    charger_cost = problem.charger_cost if designs else problem.charger_cost - support
    if not designs:
        charger_cost = charger_cost + terms.charger_cost
    if np.any(charger_cost < -1e-9):
        raise InputError("NpvTerms: a negative charger cost (support above capex and opex)")
    changed = dataclasses.replace(
        problem,
        objective="min_cost",
        pair_cost=per_unit[:, None] * problem.demand[problem.pair_zone],
        unmet_penalty=problem.unmet_penalty + best,
        fixed_cost=problem.fixed_cost + terms.station_cost,
        charger_cost=np.maximum(charger_cost, 0.0),
    )
    offset = best * float(problem.demand.sum())
    if not designs:
        offset -= float((terms.charger_cost * problem.existing_chargers).sum())
    else:
        offset -= float((support * problem.existing_chargers).sum())
    weights = (terms.charger_cost - support) if designs else None
    needs = designs or terms.extended.any() or terms.construction.capped.any()
    extension = (
        support_extension(problem.site_ids, terms, charger_weights=weights) if needs else None
    )
    return NpvProblem(changed, extension, offset)


def construction_extension(site_ids: np.ndarray, support: ConstructionSupport) -> Any:
    """Construction support in the least-cost objective (``economics.support_in_capex``) where
    it cannot be taken off a charger's capex: at sites with a station cap, and with station
    designs (a design's capex is the same at every site). ``support``: the support of those
    sites only (zero where the capex is net of it already). The hook adds :math:`-c_{jk}
    n_{jk}` at uncapped sites (the constant :math:`c_{jk} E_{jk}` of existing chargers aside)
    and the cap's variable :math:`v_j` at capped ones; ``None`` if there is nothing to add.
    """
    rest = support.per_charger
    if not rest.any():
        return None
    s = len(site_ids)
    empty_t = np.zeros((s, 0))
    terms = NpvTerms(
        revenue_per_kwh=np.zeros(s),
        station_cost=np.zeros(s),
        charger_cost=np.zeros_like(rest),
        design_cost=None,
        construction=support,
        operation_per_kwh=empty_t,
        operation_per_charger=np.zeros((*rest.shape, 0)),
        operation_cap=empty_t,
        discount=np.zeros(0),
    )
    weights = np.where(support.capped[:, None], 0.0, -rest)
    return support_extension(site_ids, terms, charger_weights=weights)


def support_extension(
    site_ids: np.ndarray, terms: NpvTerms, *, charger_weights: np.ndarray | None
) -> Any:
    """The ``extend(model, problem)`` hook (:func:`chargeplan.solver.highs.solve`) that adds
    the caps' variables and rows and, with designs, the per-charger and per-design terms.

    Terms are found by site label, so the hook also fits a reduced problem's model.
    """
    position = {site: j for j, site in enumerate(np.asarray(site_ids).tolist())}

    def extend(model: pyo.ConcreteModel, problem: FacilityProblem) -> None:
        import pyomo.environ as pyo

        sites = [s for s in np.asarray(problem.site_ids).tolist() if s in position]
        terms_expr: list = []
        if charger_weights is not None:
            terms_expr += _weighted_chargers(model, problem, sites, position, charger_weights)
        if terms.design_cost is not None and hasattr(model, "z"):
            for (site, design), var in model.z.items():
                d = list(problem.design_names or ()).index(design)
                terms_expr.append(terms.design_cost[position[site], d] * var)
        terms_expr += _construction_caps(model, problem, sites, position, terms.construction)
        terms_expr += _operation_caps(model, problem, sites, position, terms)
        if terms_expr:
            model.obj.expr += pyo.quicksum(terms_expr)

    return extend


def _chargers(model: pyo.ConcreteModel, site: object, types: tuple[str, ...]) -> list[Any]:
    """``(type position, n variable)`` of a site's charger variables that exist."""
    return [(k, model.n[site, t]) for k, t in enumerate(types) if (site, t) in model.n]


def _weighted_chargers(
    model: pyo.ConcreteModel,
    problem: FacilityProblem,
    sites: list[Any],
    position: dict[Any, int],
    weights: np.ndarray,
) -> list[Any]:
    """Objective terms :math:`w_{jk} n_{jk}` (the constant of existing chargers is in the
    offset)."""
    return [
        weights[position[site], k] * var
        for site in sites
        for k, var in _chargers(model, site, problem.types)
        if weights[position[site], k] != 0
    ]


def _construction_caps(
    model: pyo.ConcreteModel,
    problem: FacilityProblem,
    sites: list[Any],
    position: dict[Any, int],
    support: ConstructionSupport,
) -> list[Any]:
    r""":math:`v_j \le \bar c_j`, :math:`v_j \le \sum_k c_{jk}(n_{jk} - E_{jk})`, term
    :math:`-v_j`."""
    import pyomo.environ as pyo

    capped = [s for s in sites if support.capped[position[s]]]
    if not capped:
        return []
    row = {s: problem.site_ids.tolist().index(s) for s in capped}
    model.construction_support = pyo.Var(
        capped, bounds=lambda _, s: (0.0, float(support.cap[position[s]]))
    )

    def within(m: pyo.ConcreteModel, site: object) -> Any:
        c = support.per_charger[position[site]]
        existing = problem.existing_chargers[row[site]]
        built = [c[k] * var for k, var in _chargers(m, site, problem.types)]
        return m.construction_support[site] <= pyo.quicksum(built) - float(c @ existing)

    model.construction_support_earned = pyo.Constraint(capped, rule=within)
    return [-model.construction_support[s] for s in capped]


def _operation_caps(
    model: pyo.ConcreteModel,
    problem: FacilityProblem,
    sites: list[Any],
    position: dict[Any, int],
    terms: NpvTerms,
) -> list[Any]:
    r""":math:`w_{jt} \le \bar o_{jt}`, :math:`w_{jt} \le \kappa o^{kWh}_{jt} X_j + \sum_k
    o^{kW}_{jt} P_k n_{jk}`, term :math:`-\delta_t w_{jt}`."""
    import pyomo.environ as pyo

    chosen = [s for s in sites if terms.extended[position[s]]]
    if not chosen:
        return []
    years = range(len(terms.discount))
    index = [(s, t) for s in chosen for t in years]
    cap = terms.operation_cap
    model.operation_support = pyo.Var(
        index, bounds=lambda _, s, t: (0.0, _finite(cap[position[s], t]))
    )
    site_of = np.asarray(problem.site_ids, dtype=object)
    zone_of = np.asarray(problem.zone_ids, dtype=object)
    served: dict[object, list] = {s: [] for s in chosen}
    for p in np.flatnonzero(np.isin(site_of[problem.pair_site], chosen)):
        site, zone = site_of[problem.pair_site[p]], zone_of[problem.pair_zone[p]]
        demand = problem.demand[problem.pair_zone[p]]
        for k, t in enumerate(problem.types):
            if (zone, site, t) in model.x and demand[k] > 0:
                served[site].append(demand[k] * model.x[zone, site, t])

    def within(m: pyo.ConcreteModel, site: object, t: int) -> Any:
        j = position[site]
        kwh = terms.operation_per_kwh[j, t] * pyo.quicksum(served[site])
        rates = terms.operation_per_charger[j, :, t]
        per = [rates[k] * v for k, v in _chargers(m, site, problem.types)]
        return m.operation_support[site, t] <= kwh + pyo.quicksum(per)

    model.operation_support_earned = pyo.Constraint(index, rule=within)
    return [-float(terms.discount[t]) * model.operation_support[s, t] for s, t in index]


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def npv_of_decisions(problem: FacilityProblem, terms: NpvTerms, solution: Solution) -> float:
    """The NPV of a plan's decisions by the formula of the module docstring (caps applied as
    minima): what ``max_npv`` maximises, computed from the plan alone.

    ``problem``: the least-cost problem the terms belong to (not :func:`npv_problem`'s).
    """
    served = np.zeros(len(problem.site_ids))
    kwh = (solution.served * problem.demand[problem.pair_zone]).sum(axis=1)
    np.add.at(served, problem.pair_site, kwh)
    n = np.asarray(solution.chargers, float)
    new = np.maximum(n - problem.existing_chargers, 0.0)
    capex = objective_value(problem, solution)["capex"]
    support = (terms.construction.per_charger * new).sum(axis=1)
    support = np.minimum(support, terms.construction.cap)
    value = terms.revenue_per_kwh @ served - capex + support.sum()
    value -= terms.station_cost @ solution.open_site + (terms.charger_cost * n).sum()
    if terms.design_cost is not None:
        design = design_of(problem, solution.chargers)
        chosen = design >= 0
        value -= terms.design_cost[np.flatnonzero(chosen), design[chosen]].sum()
    if len(terms.discount):
        operation = terms.operation_per_kwh * served[:, None] + np.einsum(
            "skt,sk->st", terms.operation_per_charger, n
        )
        operation = np.minimum(operation, terms.operation_cap)
        value += float((operation @ terms.discount).sum())
    return float(value)
