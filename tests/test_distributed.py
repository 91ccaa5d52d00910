"""Dask: the regions of a decomposed plan solved on a LocalCluster of two worker processes give
the same plan as in this process. One cluster serves the module (starting it takes seconds)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from chargeplan.config.scenario import load_scenario
from chargeplan.solver.decompose import solve_decomposed
from chargeplan.solver.distributed import dask_executor, in_dask_worker
from chargeplan.workflows.network import plan_network

from .bruteforce import brute_clusters
from .instances import EXACT, cluster_problem


@pytest.fixture(scope="module")
def executor() -> Iterator:
    with dask_executor(n_workers=2) as run:
        yield run


def _square(x: int) -> tuple[int, bool]:
    """Module level, so that it pickles to a worker; reports where it ran."""
    return x * x, in_dask_worker()


def test_results_come_back_in_order_from_the_workers(executor) -> None:
    assert not in_dask_worker()
    assert list(executor(_square, range(7))) == [(x * x, True) for x in range(7)]
    assert list(executor(_square, [])) == []


def test_regions_on_dask_give_the_in_process_plan(executor) -> None:
    problem = cluster_problem()
    local, local_info = solve_decomposed(problem, EXACT, max_bundle_pairs=1)
    remote, remote_info = solve_decomposed(problem, EXACT, executor=executor, max_bundle_pairs=1)
    assert remote_info.regions == local_info.regions == 3
    assert remote.objective == pytest.approx(local.objective, rel=1e-12)
    assert remote.objective == pytest.approx(brute_clusters()[0], rel=1e-9)
    assert np.array_equal(remote.open_site, local.open_site)
    assert np.allclose(remote.served, local.served) and np.allclose(remote.unmet, local.unmet)


def test_a_budget_priced_on_dask_gives_the_in_process_plan(executor) -> None:
    problem = cluster_problem(budget=300.0)
    local, _ = solve_decomposed(problem, EXACT, max_bundle_pairs=1)
    remote, info = solve_decomposed(problem, EXACT, executor=executor, max_bundle_pairs=1)
    assert np.array_equal(remote.open_site, local.open_site)
    assert (remote.objective, remote.bound) == pytest.approx((local.objective, local.bound))
    assert info.price is not None


def test_a_scenario_plan_through_a_given_executor(tiny_scenario: Path, executor) -> None:
    scenario = load_scenario(tiny_scenario).with_values({"decompose.by": "components"})
    plan = plan_network(scenario, executor=executor)
    assert plan.summary["decompose_executor"] == "a given executor"
    assert plan.summary["chargers"] == 57 and plan.summary["sites_opened"] == 1


def test_lagrangian_pieces_on_dask_give_the_in_process_plan(executor) -> None:
    """Pieces that share sites (tests/piece_instances.py's grid instance), solved on two
    workers: byte-identical decisions, same cost and bound as in this process."""
    from chargeplan.solver.lagrange import solve_lagrange
    from chargeplan.solver.options import SolverOptions

    from .piece_instances import grid_problem

    problem, zone_xy = grid_problem()
    options = SolverOptions(mip_rel_gap=1e-4, threads=1)
    kwargs = {"zone_xy": zone_xy, "max_piece_pairs": 40, "steps": 1}
    local, info = solve_lagrange(problem, options, **kwargs)
    remote, _ = solve_lagrange(problem, options, executor=executor, **kwargs)
    assert info.split_pieces >= 2
    for name in ("open_site", "chargers", "served", "unmet"):
        assert getattr(remote, name).tobytes() == getattr(local, name).tobytes()
    assert (remote.objective, remote.bound) == (local.objective, local.bound)


def test_completed_gives_every_item_once_with_its_position(executor) -> None:
    """``completed`` yields ``(position, result)`` as the items finish, on at most as many
    items at a time as the cluster has threads (two here): all nine come back, each once."""
    found = list(executor.completed(_square, range(9)))
    assert sorted(found) == [(x, (x * x, True)) for x in range(9)]
    assert list(executor.completed(_square, [])) == []


def test_the_default_worker_count_is_the_cores_this_process_may_use() -> None:
    from chargeplan.solver.distributed import default_workers

    if hasattr(os, "sched_getaffinity"):
        assert default_workers() == len(os.sched_getaffinity(0))
    else:
        assert default_workers() == (os.cpu_count() or 1)


def test_the_nanny_kill_at_shutdown_is_quiet_and_other_nanny_warnings_are_not(executor) -> None:
    import logging

    from chargeplan.solver.distributed import QuietShutdown

    nanny = logging.getLogger("distributed.nanny")
    assert any(isinstance(f, QuietShutdown) for f in nanny.filters)  # while the cluster runs

    def record(message: str) -> logging.LogRecord:
        return nanny.makeRecord(nanny.name, logging.WARNING, __file__, 1, message, None, None)

    quiet = QuietShutdown()
    assert not quiet.filter(record("Worker process still alive after 4.0 seconds, killing"))
    assert quiet.filter(record("Restarting worker"))
    assert quiet.filter(record("Worker exceeded 95% memory budget. Restarting..."))


def test_the_nanny_filter_is_removed_with_the_cluster() -> None:
    import logging

    from chargeplan.solver.distributed import QuietShutdown

    nanny = logging.getLogger("distributed.nanny")

    def quiet_filters() -> int:  # the module's cluster, if it is running, holds one
        return sum(isinstance(f, QuietShutdown) for f in nanny.filters)

    before = quiet_filters()
    with dask_executor(n_workers=1) as run:
        assert quiet_filters() == before + 1
        assert list(run(abs, [-3])) == [3]
    assert quiet_filters() == before


def test_a_second_local_cluster_starts_without_a_port_warning(executor) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Port 8787 is already in use" would raise
        with dask_executor(n_workers=1) as run:
            assert list(run(abs, [-2])) == [2]


def _profiling(_: int) -> tuple[bool, bool]:
    """In a worker: whether Dask's stack sampler is configured on, and whether it runs."""
    import dask
    from distributed import get_worker

    worker = get_worker()
    return bool(dask.config.get("distributed.worker.profile.enabled")), (
        "profile" in worker.periodic_callbacks
    )


def test_the_local_workers_do_not_sample_their_stacks(executor) -> None:
    import dask

    assert list(executor(_profiling, range(2))) == [(False, False)] * 2
    key = "distributed.worker.profile.enabled"
    with dask.config.set({key: True}), dask_executor(n_workers=1) as run:  # the user's setting
        assert list(run(_profiling, [0])) == [(False, False)]
        assert dask.config.get(key) is True  # kept in this process, inside the block too


def test_pieces_on_the_local_cluster_run_one_highs_thread(
    tiny_scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local cluster's workers have one thread each, so its pieces get ``threads = 1``
    (HiGHS's default would start a scheduler as large as the machine in every worker); a
    count the scenario sets is kept, and a given executor or one worker in this process keep
    HiGHS's default. The cluster is replaced by ``map`` here: only the options are checked."""
    import contextlib

    import chargeplan.solver.distributed as distributed
    import chargeplan.workflows.regions as regions

    seen: list[int | None] = []
    real = regions.solve_decomposed

    def recorded(problem, options, executor=None, **kwargs):
        seen.append(options.threads)
        return real(problem, options, executor=map, **kwargs)

    @contextlib.contextmanager
    def no_cluster(*args, **kwargs):
        yield map

    monkeypatch.setattr(regions, "solve_decomposed", recorded)
    monkeypatch.setattr(distributed, "dask_executor", no_cluster)
    base = load_scenario(tiny_scenario).with_values(
        {"decompose.by": "components", "decompose.workers": 2}
    )
    for values in ({}, {"solver.threads": 2}, {"decompose.workers": 1}):
        plan = plan_network(base.with_values(values))
        assert plan.summary["chargers"] == 57  # the plan of the tiny scenario either way
    plan_network(base, executor=map)
    assert seen == [1, 2, None, None]
    options = regions.one_thread_per_worker(regions.SolverOptions())
    assert options.threads == 1 and regions.one_thread_per_worker(options) is options
