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
(HiGHS and Pyomo hold the GIL for much of a model build, so processes, not threads), one per
core this process may use (:func:`default_workers`), each allowed an equal share of the
memory. With ``scheduler`` the same work goes to an existing cluster instead, whose workers
must have chargeplan (and the input files, for batch runs) installed at the same paths.

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

__all__ = ["DaskExecutor", "QuietShutdown", "dask_executor", "default_workers", "in_dask_worker"]

log = logging.getLogger(__name__)


def default_workers() -> int:
    """Workers of the default LocalCluster: the cores this process may run on (its CPU
    affinity where the system has one, as Python 3.13's ``os.process_cpu_count``; else the
    machine's cores), at least 1."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # no affinity on this system (macOS, Windows)
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
        import dask
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
    nanny_log = logging.getLogger("distributed.nanny")
    quiet = QuietShutdown()
    nanny_log.addFilter(quiet)
    # Each worker samples its threads' stacks every 10 ms for Dask's dashboard profile, which
    # a local cluster without a dashboard never shows: 1.4 % of the workers' CPU on the
    # national station plan (py-spy; docs/stations.md, "Where the solve's CPU goes now").
    # A nanny hands the configuration of its creation to its worker process (a restarted one
    # too), so the setting is made only while the cluster starts: this process keeps its own.
    try:
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                # The scheduler's HTTP server (health and metrics; no dashboard) on a free
                # local port: with None it tries 8787 and warns when another cluster has it.
                dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": False},
                silence_logs=logging.ERROR,
            )
        with cluster, Client(cluster) as client:
            log.info("dask: local cluster of %d worker processes", workers)
            yield client
    finally:
        nanny_log.removeFilter(quiet)  # after the cluster has closed


class QuietShutdown(logging.Filter):
    """Drops the nanny's warning that it killed a worker which took more than 4 s to stop.

    A local cluster closes only after every result is in; a worker that frees a large piece's
    memory slowly on a loaded machine is then killed (``distributed.nanny`` waits 0.8 x 5 s,
    a fixed timeout), which loses nothing but printed ``Worker process still alive after 4.0
    seconds, killing`` under the run's last line. Every other nanny message (a worker
    restarted after running out of memory, say) still reaches the user.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the shutdown warning only."""
        return not str(record.msg).startswith("Worker process still alive after")


class DaskExecutor:
    """The executor :func:`dask_executor` yields: ``executor(function, items)`` gives the
    results in item order, :meth:`completed` as they finish.

    **Scheduling.** The items start in the order given, never more at a time than the cluster
    has worker threads (its ``nthreads`` when the first item is sent): the next item is sent
    when one finishes, so it goes to the worker that just became free. Given largest first
    (:func:`chargeplan.solver.tasks.start_order`), this is the longest-processing-time
    list schedule: no large piece waits in one worker's queue while another worker idles at
    the end. Each item travels with its task (a piece of the national plan is at most a few
    MB); scattering the items beforehand would tie each to the worker holding its data.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def slots(self) -> int:
        """Items running at a time: the cluster's worker threads (at least 1)."""
        return max(sum(self.client.nthreads().values()), 1)

    def __call__(self, func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """The results in item order, each yielded as soon as it and those before it are done."""
        done: dict[int, Any] = {}
        following = 0
        for index, result in self.completed(func, items):
            done[index] = result
            while following in done:
                yield done.pop(following)
                following += 1

    def completed(
        self, func: Callable[[Any], Any], items: Iterable[Any]
    ) -> Iterator[tuple[int, Any]]:
        """``(position of the item, its result)`` as the items finish (class docstring)."""
        from distributed import as_completed

        queue = list(items)
        slots = self.slots
        running: dict[str, tuple[int, Any]] = {}  # key: (position, future)
        finished = as_completed()
        sent = 0

        def send() -> None:
            nonlocal sent
            future = self.client.submit(func, queue[sent], pure=False)
            running[future.key] = (sent, future)
            finished.add(future)
            sent += 1

        try:
            while sent < min(slots, len(queue)):
                send()
            for future in finished:
                index, _ = running.pop(future.key)
                result = future.result()
                if sent < len(queue):
                    send()  # before handing the result on: the worker is free now
                yield index, result
        finally:
            if running:  # stopped early (an error, or the caller stopped reading)
                self.client.cancel([future for _, future in running.values()])
            finished.clear()


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
        yield DaskExecutor(client)
