"""Worker processes for the in-memory stages of a build: counting the concept base, the mix
calibration and the balancing simulation (parsing and sample building run in ``Dataset.map``).

:func:`fork_map` runs ``fn`` over a few chunks in processes *forked* from this one: a worker
inherits everything in memory (the concept base with its caches, the parsed sample), so nothing
is pickled but a chunk's position and the chunk's result. Results come back in chunk order, and
every caller combines them in that order, so a stage gives the same result with any number of
processes (the callers' docstrings say how). Where ``fork`` is not available (Windows; macOS
spawns by default and forking there is unsafe) or one process is asked for, the chunks run here,
one after the other.
"""

from __future__ import annotations

import multiprocessing
import sys
from typing import Any, Callable, Sequence

# The task of the current fork_map: set before the pool forks, read by the workers.
_TASK: list = []


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux and other POSIX systems but macOS)."""
    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


def workers(num_proc: int | None, n_items: int) -> int:
    """The number of processes :func:`fork_map` uses for ``n_items`` chunks: at most
    ``num_proc`` and ``n_items``, 1 when forking is not available."""
    if num_proc is not None and (isinstance(num_proc, bool) or not isinstance(num_proc, int) or num_proc < 1):
        raise ValueError(f"`num_proc` should be a positive integer or None, got {num_proc!r}.")
    if not num_proc or num_proc == 1 or n_items < 2 or not can_fork():
        return 1
    return min(num_proc, n_items)


def _run(i: int):
    fn, items = _TASK[0]
    return fn(items[i])


def fork_map(fn: Callable[[Any], Any], items: Sequence, num_proc: int | None = None) -> list:
    """``[fn(item) for item in items]``, the items spread over up to ``num_proc`` forked processes.

    ``fn`` and the items need not be picklable (the workers inherit them); the results must be.
    A worker that fails raises its error here.

    >>> fork_map(len, [[1, 2], [3]], num_proc=2)
    [2, 1]
    """
    items = list(items)
    n = workers(num_proc, len(items))
    if n == 1:
        return [fn(item) for item in items]
    if _TASK:
        raise RuntimeError("fork_map is not re-entrant: a worker cannot start workers of its own.")
    _TASK.append((fn, items))
    try:
        with multiprocessing.get_context("fork").Pool(n) as pool:
            return pool.map(_run, range(len(items)), chunksize=1)
    finally:
        _TASK.clear()


def chunks(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into ``parts`` contiguous, nearly equal pieces (fewer when ``n`` is small).

    >>> chunks(10, 3)
    [range(0, 4), range(4, 7), range(7, 10)]
    """
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    out, lo = [], 0
    for k in range(parts):
        hi = lo + size + (1 if k < extra else 0)
        out.append(range(lo, hi))
        lo = hi
    return out


def _serve(conn, chunk) -> None:
    """A worker of :class:`ChunkWorkers`: run each ``(fn, args)`` received on its chunk."""
    import traceback

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args = message
        try:
            reply = ("ok", fn(chunk, *args))
        except BaseException as error:  # noqa: BLE001 - every failure goes back to the caller
            reply = ("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        conn.send(reply)


class ChunkWorkers:
    """One forked process per chunk, each serving its chunk for several passes, so that what a
    worker computed in one pass (its per-caption caches) serves the next.

    ``map(fn, *args)`` returns ``[fn(chunk, *args) for chunk in chunks]`` in chunk order. ``fn``
    must be a module-level function (it is sent by reference), ``args`` and the results must be
    picklable; the chunks themselves are inherited, never pickled. With one process (or no
    ``fork``) the chunks are served here, in order. Use as a context manager; a worker that fails
    or dies raises :class:`RuntimeError` in the caller.

    >>> with ChunkWorkers([[1, 2], [3]], num_proc=2) as pool:
    ...     pool.map(sum), pool.map(max)
    ([3, 3], [2, 3])
    """

    def __init__(self, chunks: Sequence, num_proc: int | None = None):
        self.chunks = list(chunks)
        self.num_proc = workers(num_proc, len(self.chunks))
        self._conns: list = []
        self._procs: list = []
        if self.num_proc > 1:
            if len(self.chunks) != self.num_proc:
                raise ValueError(f"ChunkWorkers needs one chunk per process: {len(self.chunks)} chunks, "
                                 f"{self.num_proc} processes.")
            ctx = multiprocessing.get_context("fork")
            try:
                for chunk in self.chunks:
                    mine, theirs = ctx.Pipe()
                    proc = ctx.Process(target=_serve, args=(theirs, chunk), daemon=True)
                    proc.start()
                    theirs.close()
                    self._conns.append(mine)
                    self._procs.append(proc)
            except BaseException:
                self.close()
                raise

    def map(self, fn: Callable, *args) -> list:
        if not self._conns:
            return [fn(chunk, *args) for chunk in self.chunks]
        for conn in self._conns:
            conn.send((fn, args))
        out, failure = [], None
        for k, conn in enumerate(self._conns):
            try:
                status, value = conn.recv()
            except (EOFError, OSError):
                status, value = "error", f"worker {k} (pid {self._procs[k].pid}) died"
            if status != "ok" and failure is None:
                failure = value
            out.append(value)
        if failure is not None:
            self.close()
            raise RuntimeError(f"A worker process failed: {failure}")
        return out

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(None)
                conn.close()
            except (OSError, ValueError):
                pass
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
        self._conns, self._procs = [], []

    def __enter__(self) -> ChunkWorkers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
