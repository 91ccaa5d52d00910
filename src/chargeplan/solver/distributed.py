"""Run chargeplan's independent pieces of work on a Dask cluster.

Two kinds of work fan out: the regions of a decomposed plan
(:func:`chargeplan.solver.decompose.solve_decomposed`) and the runs of a batch
(:func:`chargeplan.workflows.batch.run_batch`). Both take a ``map``-like *executor*,
``executor(function, items) -> results in item order``; this module makes one that sends the
items to Dask workers::

    from chargeplan.solver.distributed import dask_executor
    with dask_executor(n_workers=2) as executor:          # an in-process LocalCluster
        table = run_batch(jobs, "runs/sweep", executor=executor)
    with dask_executor(scheduler="tcp://10.0.0.5:8786") as executor:   # an existing cluster
        ...

Default cluster: a :class:`distributed.LocalCluster` of worker *processes* with one thread each
(HiGHS and Pyomo hold the GIL for much of a model build, so processes, not threads), as many
as the machine has cores (``os.cpu_count()``), each allowed an equal share of the memory. With
``scheduler`` the same work goes to an existing cluster instead, whose workers must have
chargeplan (and the input files, for batch runs) installed at the same paths.

A ``tcp://`` scheduler is unauthenticated: whoever reaches its port runs code on its workers
(and so does chargeplan's client, which sends pickled work). On a shared network run the
cluster with TLS and pass ``security`` (the options of :class:`distributed.Security`:
``tls_ca_file``, ``tls_client_cert``, ``tls_client_key``); encryption is then required.

A function already running on a Dask worker (a decomposed plan inside a batch job on the
cluster) does not start a cluster of its own: its items run one after the other in the worker
(parallelism comes from the batch), which also avoids a worker waiting on its own cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from chargeplan.errors import ChargeplanError

__all__ = ["dask_executor", "default_workers", "in_dask_worker"]

log = logging.getLogger(__name__)


def default_workers() -> int:
    """Workers of the default LocalCluster: the machine's cores (at least 1)."""
    return max(os.cpu_count() or 1, 1)


def in_dask_worker() -> bool:
    """Whether this code runs inside a Dask worker's task."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


@contextlib.contextmanager
def _client(
    scheduler: str | None, n_workers: int | None, security: Mapping[str, str] | None = None
) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster, Security
    except ImportError:  # pragma: no cover - a dependency
        raise ChargeplanError("Dask is not installed: pip install 'dask[distributed]'") from None
    # Dask's import sets its logger to INFO (connection chatter); chargeplan logs the progress
    dask_log = logging.getLogger("distributed")
    dask_log.setLevel(max(dask_log.getEffectiveLevel(), logging.WARNING))
    if scheduler is not None:
        kwargs: dict[str, Any] = {"timeout": "20s"}
        if security:
            kwargs["security"] = Security(**security, require_encryption=True)
        try:
            client = Client(scheduler, **kwargs)
        except (OSError, ValueError, TypeError) as error:
            raise ChargeplanError(
                f"cannot reach the Dask scheduler at {scheduler} ({error}): check the address "
                "(e.g. tcp://host:8786) and that the scheduler is running"
            ) from None
        with client:
            yield client
        return
    workers = n_workers or default_workers()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,  # no dashboard (it would take port 8787)
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        log.info("dask: local cluster of %d worker processes", workers)
        yield client


def _ordered_results(client: Any, func: Callable[[Any], Any], items: list[Any]) -> Iterator[Any]:
    # Scatter the items first: a region's arrays can be megabytes, too large to travel inside
    # the task graph; hash=False skips hashing them (each item is sent once anyway).
    data = client.scatter(items, hash=False) if items else []
    futures = client.map(func, data, pure=False)
    try:
        for future in futures:
            yield future.result()
    finally:
        client.cancel([*futures, *data])


@contextlib.contextmanager
def dask_executor(
    scheduler: str | None = None,
    n_workers: int | None = None,
    security: Mapping[str, str] | None = None,
) -> Iterator[Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]]:
    """A ``map``-like executor backed by Dask, for the duration of a ``with`` block.

    Parameters
    ----------
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); default: start a
        LocalCluster for the block and close it after.
    n_workers
        Worker processes of the LocalCluster, at least 1 (default :func:`default_workers`);
        ignored with ``scheduler``.
    security
        Options of :class:`distributed.Security` for a ``tls://`` scheduler (``tls_ca_file``,
        ``tls_client_cert``, ``tls_client_key``); ``None``: none (a ``tcp://`` scheduler).

    Yields
    ------
    callable
        ``executor(function, items)``: an iterator over the results in item order, each
        yielded as soon as it and those before it are done. Inside a Dask worker: the builtin
        :func:`map` (see the module docstring).
    """
    if in_dask_worker():
        yield map
        return
    with _client(scheduler, n_workers, security) as client:

        def executor(func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
            return _ordered_results(client, func, list(items))

        yield executor
