"""Where tasks run: ``serial`` (this process), ``local`` (processes on this machine), ``dask``.

Every executor has the same small interface, used by :class:`discovery.runner.Runner`:

* ``submit(task, imports=()) -> future`` -- schedule ``search.base.execute(task)`` after
  importing the modules ``imports`` on the worker;
* ``wait(futures, timeout) -> set`` -- the futures that are done (at least one unless
  the timeout expired);
* ``close(cancel=False)`` -- release the workers (``cancel=True``: drop queued tasks
  and stop the workers without waiting for running ones).

Futures answer ``result()`` (the list of candidates, or the task's exception).
Workers import the engine's module (``imports``) before executing, so an engine
registered in any ``search.<name>`` module runs everywhere.

Running on a SLURM cluster with dask-jobqueue
---------------------------------------------
Install ``dask-jobqueue`` in the workbench's environment on the cluster (the workers
must be able to import ``search`` and ``solvers``), start a cluster from a login node
and hand its scheduler address to the runner::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=1, processes=1, memory="2GB", walltime="08:00:00")
    cluster.scale(jobs=32)
    print(cluster.scheduler_address)        # e.g. tcp://10.0.0.5:8786

    discovery run overnight.toml --executor dask --scheduler tcp://10.0.0.5:8786

(or ``dask scheduler`` on one node and ``srun dask worker tcp://host:8786`` in a
batch job). Only the client process writes to the store.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

from search.base import Candidate, Task
from solvers.errors import DiscoveryError

__all__ = [
    "EXECUTORS",
    "SerialExecutor",
    "LocalExecutor",
    "DaskExecutor",
    "make_executor",
    "execute_task",
    "check_workers",
    "check_scheduler",
    "MAX_WORKERS",
]

EXECUTORS = ("serial", "local", "dask")

#: The most workers any executor is asked for (a campaign's ``workers``, ``--workers``).
MAX_WORKERS = 1024

#: Worker processes on this machine per CPU, at most (more only oversubscribe the CPUs and
#: multiply the memory: each worker is a Python process with the engines imported).
LOCAL_WORKERS_PER_CPU = 4

#: Seconds a Dask scheduler has to accept a TCP connection (checked before anything is
#: written) and then to answer the client.
SCHEDULER_CONNECT_SECONDS = 5.0
SCHEDULER_CLIENT_TIMEOUT = "10s"


def execute_task(task: Task, imports: Sequence[str] = ()) -> list[Candidate]:
    """Import the engine modules, then run ``search.base.execute(task)`` (on any worker)."""
    for module in imports:
        importlib.import_module(module)
    from search.base import execute

    return list(execute(task))


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when its parent dies (the client killed with -9 would
    otherwise leave its workers running, re-parented to init)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not available: workers may outlive a killed client
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """Exit this worker as soon as its parent ``parent`` is gone (re-parented: the client was
    killed). The fallback of :func:`_die_with_parent` where ``prctl`` is not available; a
    daemon thread, so it runs between the bytecodes of a task (not inside a long C call)."""
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="discovery-watch-parent", daemon=True).start()


def _init_worker(imports: Sequence[str], parent: int | None = None) -> None:
    # Ctrl-C in a terminal reaches the whole process group: only the client handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if parent is not None:
        _watch_parent(parent)
    for module in imports:
        importlib.import_module(module)


def max_local_workers() -> int:
    """The most worker processes started on this machine: 4 per CPU."""
    return LOCAL_WORKERS_PER_CPU * (os.cpu_count() or 1)


def check_workers(workers: int | None, *, local: bool = False) -> None:
    """Refuse a number of workers below 1, above :data:`MAX_WORKERS`, or (``local``: the
    processes are started on this machine) above 4 per CPU of this machine.

    Raises
    ------
    DiscoveryError
        With the cap in the message.

    Examples
    --------
    >>> check_workers(2)
    >>> try:
    ...     check_workers(2**63 - 1)
    ... except DiscoveryError as err:
    ...     print(err)
    workers must be between 1 and 1024, not 9223372036854775807
    """
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, int) \
            or not 1 <= workers <= MAX_WORKERS:
        raise DiscoveryError(f"workers must be between 1 and {MAX_WORKERS}, not {workers}")
    cap = max_local_workers()
    if local and workers > cap:
        raise DiscoveryError(
            f"{workers} worker processes on this machine are too many: at most "
            f"{LOCAL_WORKERS_PER_CPU} per CPU, {cap} here"
        )


def _scheduler_host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a ``tcp://`` or ``tls://`` scheduler address (``None`` for other
    transports, left to ``distributed``); the port defaults to 8786."""
    scheme, sep, _ = address.partition("://")
    if not sep:
        address = "tcp://" + address
    elif scheme not in ("tcp", "tls"):
        return None
    try:
        parts = urllib.parse.urlsplit(address)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise DiscoveryError(f"{address!r} is not a Dask scheduler address: {exc}") from None
    if not host:
        raise DiscoveryError(f"{address!r} is not a Dask scheduler address (no host)")
    return host, 8786 if port is None else port


def _resolve(host: str, port: int, timeout: float) -> list:
    """``socket.getaddrinfo`` of ``host``, given at most ``timeout`` seconds (in a thread:
    name resolution itself has no timeout)."""
    found: dict[str, Any] = {}

    def resolve() -> None:
        try:
            found["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            found["error"] = exc

    worker = threading.Thread(target=resolve, name="discovery-resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if "addresses" in found:
        return found["addresses"]
    reason = found.get("error") or f"no answer within {timeout:g} s"
    raise DiscoveryError(f"Cannot reach the Dask scheduler: cannot resolve {host!r} ({reason})")


def check_scheduler(address: str, timeout: float = SCHEDULER_CONNECT_SECONDS) -> None:
    """Refuse a Dask scheduler that does not accept a TCP connection within ``timeout`` s.

    Checked before a campaign writes anything, so that an unreachable scheduler costs
    seconds, not the client's own (longer) connection timeout, and leaves no store behind.

    Raises
    ------
    DiscoveryError
        For a malformed address, a host that does not resolve, or a refused or timed-out
        connection.

    Examples
    --------
    >>> try:
    ...     check_scheduler("tcp://127.0.0.1:1", timeout=1)
    ... except DiscoveryError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    Cannot reach the Dask scheduler tcp://127.0.0.1:1: ...
    """
    target = _scheduler_host_port(address)
    if target is None:
        return
    deadline = time.monotonic() + timeout
    addresses = _resolve(*target, timeout)
    error: Exception | None = None
    for family, kind, proto, _, sockaddr in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(left)
                sock.connect(sockaddr)
            return
        except OSError as exc:
            error = exc
    reason = getattr(error, "strerror", None) or error or f"no answer within {timeout:g} s"
    raise DiscoveryError(f"Cannot reach the Dask scheduler {address}: {reason}")


class SerialExecutor:
    """Runs each task in this process, one at a time, when :meth:`wait` is called.

    Examples
    --------
    >>> from search.toy import engine_task
    >>> ex = SerialExecutor(imports=("search.toy",))
    >>> fut = ex.submit(engine_task(0, {"per_task": 1}))
    >>> done = ex.wait([fut])
    >>> [c.claim for c in fut.result()]
    ['(1+sqrt(5))/2']
    >>> ex.close()
    """

    name = "serial"

    def __init__(self, imports: Sequence[str] = ()):
        self.imports = tuple(imports)
        self._queue: list[tuple[cf.Future, Task, tuple]] = []

    def submit(self, task: Task, imports: Sequence[str] = ()) -> cf.Future:
        fut: cf.Future = cf.Future()
        self._queue.append((fut, task, self.imports + tuple(imports)))
        return fut

    def wait(self, futures: Iterable, timeout: float | None = None) -> set:
        futures = set(futures)
        done = {f for f in futures if f.done()}
        if done:
            return done
        for i, (fut, task, imports) in enumerate(self._queue):
            if fut in futures:
                del self._queue[i]
                if fut.set_running_or_notify_cancel():
                    try:
                        fut.set_result(execute_task(task, imports))
                    except Exception as exc:  # the runner decides what a failure means
                        fut.set_exception(exc)
                return {fut}
        return set()

    def close(self, cancel: bool = False) -> None:
        for fut, _, _ in self._queue:
            fut.cancel()
        self._queue.clear()

    def __repr__(self) -> str:
        return "SerialExecutor()"


#: Thread-pool sizes of the numerical libraries (BLAS, OpenMP, Rust's rayon in Clarabel).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "RAYON_NUM_THREADS")


class LocalExecutor:
    """A pool of worker processes on this machine (``spawn`` start method).

    Each worker's numerical libraries get ``cpu_count // workers`` threads (at least one)
    unless the environment already says otherwise: without that, two workers of a
    multithreaded solver on two cores oversubscribe them (measured: an SDP evaluation of the
    three-point bound took 55 s instead of 30 s).

    Parameters
    ----------
    workers : int, optional
        Number of processes (default: the number of CPUs).
    imports : sequence of str
        Modules every worker imports first (the engines' modules).
    """

    name = "local"

    def __init__(self, workers: int | None = None, imports: Sequence[str] = ()):
        self.workers = int(workers or min(os.cpu_count() or 1, MAX_WORKERS))
        if self.workers < 1:
            raise DiscoveryError(f"The local executor needs at least one worker, not {workers}")
        check_workers(self.workers, local=True)
        self.imports = tuple(imports)
        # workers are spawned on demand and inherit the environment of that moment: set the
        # thread counts for the executor's lifetime, restore them in close()
        threads = str(max(1, (os.cpu_count() or 1) // self.workers))
        self._saved_env = {v: os.environ.get(v) for v in THREAD_VARIABLES}
        for v in THREAD_VARIABLES:
            os.environ.setdefault(v, threads)
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.imports, os.getpid()),
        )

    def submit(self, task: Task, imports: Sequence[str] = ()) -> cf.Future:
        return self._pool.submit(execute_task, task, self.imports + tuple(imports))

    def wait(self, futures: Iterable, timeout: float | None = None) -> set:
        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def close(self, cancel: bool = False) -> None:
        if cancel:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for proc in processes:  # do not wait for long-running tasks
                if proc.is_alive():
                    proc.terminate()
            for proc in processes:
                proc.join(timeout=5)
        else:
            self._pool.shutdown(wait=True)
        for v, old in self._saved_env.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers})"


def _dask_client(distributed: Any, scheduler: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``scheduler``, refused with one line if it
    does not accept a connection within 5 s or does not answer as a Dask scheduler within
    10 s (an HTTP server's reply, read as a Dask message, would ask for exabytes)."""
    check_scheduler(scheduler)
    try:
        return distributed.Client(scheduler, timeout=SCHEDULER_CLIENT_TIMEOUT)
    except OSError as exc:
        raise DiscoveryError(f"Cannot reach the Dask scheduler {scheduler}: {exc}") from None
    except Exception as exc:  # whatever answered (MemoryError included), not a scheduler
        raise DiscoveryError(f"{scheduler} did not answer as a Dask scheduler "
                             f"({type(exc).__name__})") from None


class DaskExecutor:
    """Tasks on a Dask cluster: a new ``LocalCluster`` or an existing scheduler.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). Without it a
        ``distributed.LocalCluster(processes=True, n_workers=workers, threads_per_worker=1)``
        is started and closed with the executor.
    workers : int
        Workers of the local cluster.
    imports : sequence of str
        Modules every worker imports before executing a task.
    """

    name = "dask"

    def __init__(
        self, scheduler: str | None = None, workers: int = 2, imports: Sequence[str] = ()
    ):
        try:
            import distributed
        except ImportError:
            raise DiscoveryError(
                "The dask executor needs dask[distributed]: pip install 'discovery-workbench[dask]'"
            ) from None
        import logging

        self.imports = tuple(imports)
        self.scheduler = scheduler
        self._cluster = None
        if not scheduler:
            check_workers(int(workers), local=True)
        try:
            if scheduler:
                self._client = _dask_client(distributed, scheduler)
            else:
                self._cluster = distributed.LocalCluster(
                    n_workers=int(workers),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                self._client = distributed.Client(self._cluster)
        except OSError as exc:
            raise DiscoveryError(f"Cannot reach the Dask scheduler {scheduler}: {exc}") from None
        self._distributed = distributed

    def submit(self, task: Task, imports: Sequence[str] = ()) -> Any:
        return self._client.submit(
            execute_task, task, self.imports + tuple(imports), pure=False
        )

    def wait(self, futures: Iterable, timeout: float | None = None) -> set:
        futures = list(futures)
        if not futures:
            return set()
        try:
            done, _ = self._distributed.wait(
                futures, timeout=timeout, return_when="FIRST_COMPLETED"
            )
        except TimeoutError:
            return set()
        return set(done)

    def close(self, cancel: bool = False) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __repr__(self) -> str:
        return f"DaskExecutor(scheduler={self.scheduler!r})"


def make_executor(
    name: str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    imports: Sequence[str] = (),
):
    """Build the executor ``name`` (``serial``, ``local`` or ``dask``).

    Raises
    ------
    DiscoveryError
        For an unknown executor name, or ``dask`` without dask installed.
    """
    if scheduler and name != "dask":
        raise DiscoveryError("--scheduler needs the dask executor")
    if name == "serial":
        return SerialExecutor(imports=imports)
    if name == "local":
        return LocalExecutor(workers=workers, imports=imports)
    if name == "dask":
        return DaskExecutor(scheduler=scheduler, workers=workers or 2, imports=imports)
    raise DiscoveryError(f"Unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")
