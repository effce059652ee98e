"""A small pool of killable worker processes for CPU-bound, untrusted work.

Feed parsing (feedparser has quadratic corners) and extraction (trafilatura has no timeout, can
take tens of seconds and crashes under threads) run here. Each worker is a separate process with
a pipe; a task that overruns its hard timeout gets its worker killed and replaced, a worker that
dies is replaced, and every worker is recycled after `recycle_after` tasks so memory cannot creep.
Workers come from a forkserver that has imported the parsing libraries and filled
trafilatura's lazy caches once (monitor.parsing.warmup), so a replacement starts in
milliseconds, warm.

Tasks are pure functions that their own modules register by name (`@task`); the pool knows none
of them. Arguments and results cross the pipe by pickle, and so do failures, as `TaskFailure`
values: our own errors (a `ParseError`, say) arrive as themselves, others as `WorkerTaskFailed`.
A task may take a *context* (a `WorkerContext`: the topic rules, say) as its first argument:
each worker unpickles it once and keeps it until a task brings a context with another key.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import importlib
import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from monitor.errors import MonitorError, WorkerCrashed, WorkerTaskFailed, WorkerTimeout

# The modules that define tasks (each registers its own with `@task`), imported by the
# forkserver before it forks any worker (monitor.parsing.warmup also fills trafilatura's
# lazy caches).
# The forkserver is started once per process, by its first user: a program that uses another
# forkserver pool first must set this preload list itself.
TASK_MODULES = ("monitor.parsing.feeds", "monitor.parsing.sitemaps", "monitor.parsing.telegram",
                "monitor.parsing.extract", "monitor.polling.analysis")
PRELOAD = ("monitor.workers", *TASK_MODULES, "trafilatura", "monitor.parsing.warmup")

_TASKS: dict[str, Callable[..., Any]] = {}
_Task = TypeVar("_Task", bound=Callable[..., Any])


def task(name: str) -> Callable[[_Task], _Task]:
    """Register a pure function as the worker task `name` (the pool itself knows none)."""
    def register(fn: _Task) -> _Task:
        _TASKS[name] = fn
        return fn
    return register


@dataclass(frozen=True)
class TaskFailure:
    """A task's exception as it crosses the pipe: our own errors travel as themselves
    (`error`); anything else by its type name and message."""

    task: str
    type_name: str
    message: str
    error: MonitorError | None = None

    @classmethod
    def of(cls, name: str, exc: Exception) -> TaskFailure:
        own = exc if isinstance(exc, MonitorError) and _transferable(exc) else None
        return cls(name, type(exc).__name__, str(exc)[:500], own)

    def exception(self) -> MonitorError:
        if self.error is not None:
            return self.error
        return WorkerTaskFailed(f"{self.task} failed: {self.type_name}: {self.message}",
                                type_name=self.type_name)


def _transferable(exc: Exception) -> bool:
    try:
        return isinstance(pickle.loads(pickle.dumps(exc)), type(exc))
    except Exception:
        return False


@dataclass(frozen=True)
class WorkerContext:
    """An object workers keep between tasks, known by the digest of its pickle."""

    key: str
    blob: bytes

    @classmethod
    def of(cls, value: object) -> WorkerContext:
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(hashlib.sha1(blob).hexdigest(), blob)


@task("probe_sleep")
def _probe_sleep(seconds: float) -> float:
    """Diagnostics: hold a worker busy (used by `monitor` self-checks and the pool's tests)."""
    time.sleep(seconds)
    return seconds


@task("probe_crash")
def _probe_crash() -> None:
    """Diagnostics: die the way a segfaulting extractor dies."""
    os.kill(os.getpid(), signal.SIGKILL)


@task("probe_warm")
def _probe_warm() -> bool:
    """Diagnostics: whether this worker inherited trafilatura's caches from the forkserver."""
    from trafilatura import external

    return bool(external.JT_STOPLIST)


def _child_main(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    for module in TASK_MODULES:  # already imported by the forkserver: this only looks them up
        importlib.import_module(module)
    context: tuple[str, Any] = ("", None)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        name, args, wanted = message
        try:
            if wanted is not None:
                key, blob = wanted
                if blob is not None:
                    context = (key, pickle.loads(blob))
                if context[0] != key:
                    raise RuntimeError("the task's context was never sent to this worker")
                args = (context[1], *args)
            reply: tuple[str, Any] = ("ok", _TASKS[name](*args))
        except Exception as exc:  # reported to the parent as a typed value
            reply = ("error", TaskFailure.of(name, exc))
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result
            conn.send(("error", TaskFailure(name, type(exc).__name__,
                                            "result not transferable")))


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_child_main, args=(child,), daemon=True,
                                   name="feed-monitor-worker")
        self.process.start()
        child.close()
        self.tasks_done = 0
        self.broken = False
        self.context_key = ""  # the context this worker holds

    async def call(self, name: str, args: tuple[Any, ...], timeout: float,
                   context: WorkerContext | None = None) -> Any:
        """Send one task and wait for its answer on the event loop (no thread: the pipe's
        readability is watched by the loop itself)."""
        wanted = None if context is None else (
            context.key, None if context.key == self.context_key else context.blob)
        loop = asyncio.get_running_loop()
        try:
            self.conn.send((name, args, wanted))  # the worker is idle in recv: it drains this
            answered: asyncio.Future[None] = loop.create_future()

            def readable() -> None:
                if not answered.done():
                    answered.set_result(None)

            fd = self.conn.fileno()
            loop.add_reader(fd, readable)
            try:
                await asyncio.wait_for(answered, timeout)
            except TimeoutError:
                self.broken = True
                raise WorkerTimeout(f"{name} ran over its {timeout:g}s limit; worker killed") \
                    from None
            finally:
                loop.remove_reader(fd)
            status, value = self.conn.recv()  # the answer is arriving: read all of it
        except (EOFError, OSError, BrokenPipeError):
            self.broken = True
            raise WorkerCrashed(f"worker process died during {name}") from None
        self.tasks_done += 1
        if context is not None:  # after a failure, which context it holds is unknown: resend
            self.context_key = context.key if status == "ok" else ""
        if status == "error":
            raise value.exception()
        return value

    def stop(self, kill: bool = False) -> None:
        if not kill and self.process.is_alive():
            try:
                self.conn.send(None)
            except (OSError, BrokenPipeError):
                kill = True
            self.process.join(timeout=1.0)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5.0)
        self.conn.close()


class WorkerPool:
    """`await pool.run(task, *args, timeout=...)` in up to `size` processes at once. Tasks
    wait for a free worker in order of arrival; the timeout counts from the moment a worker
    takes the task."""

    def __init__(self, size: int = 2, recycle_after: int = 500) -> None:
        self.size = size
        self.recycle_after = recycle_after
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(list(PRELOAD))
        self._free: list[_Worker] | None = None
        self._waiting: collections.deque[asyncio.Future[_Worker]] = collections.deque()
        self._all: list[_Worker] = []
        self.replaced = 0
        # called with (task name, seconds since a worker took it) after each finished task
        self.observers: list[Callable[[str, float], None]] = []

    async def start(self) -> None:
        if self._free is not None:
            return
        self._free = []
        workers = await asyncio.to_thread(lambda: [_Worker(self._ctx) for _ in range(self.size)])
        for worker in workers:
            self._all.append(worker)
            self._release(worker)

    async def run(self, task: str, *args: Any, timeout: float,
                  context: WorkerContext | None = None) -> Any:
        if self._free is None:
            await self.start()
        worker = await self._acquire()
        started = time.monotonic()
        try:
            result = await worker.call(task, args, timeout, context)
            for observe in self.observers:
                observe(task, time.monotonic() - started)
            return result
        except asyncio.CancelledError:
            worker.broken = True  # its task may still be running: never reuse it
            raise
        finally:
            if worker.broken or worker.tasks_done >= self.recycle_after:
                worker = await asyncio.to_thread(self._replace, worker)
            self._release(worker)

    async def _acquire(self) -> _Worker:
        assert self._free is not None
        if self._free and not self._waiting:
            return self._free.pop()
        turn: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed a worker as we were cancelled
                self._release(turn.result())
            raise

    def _release(self, worker: _Worker) -> None:
        """Hand a free worker to the first task in line, or keep it."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():  # a cancelled wait is skipped
                turn.set_result(worker)
                return
        if self._free is not None:
            self._free.append(worker)

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop(kill=worker.broken)
        fresh = _Worker(self._ctx)
        self._all[self._all.index(worker)] = fresh
        self.replaced += 1
        return fresh

    async def close(self) -> None:
        """Stop every worker. Tasks still waiting for one end with WorkerCrashed now (rather
        than wait forever); a task running now gets no new worker when it finishes."""
        self._free = None
        waiting, self._waiting = self._waiting, collections.deque()
        for turn in waiting:
            if not turn.done():
                turn.set_exception(WorkerCrashed("the worker pool was closed"))
        workers, self._all = self._all, []

        def stop_all() -> None:
            for w in workers:
                w.stop()

        await asyncio.to_thread(stop_all)
