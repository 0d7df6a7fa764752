"""Independent runs spread over the CPU's cores: one worker process per core, one BLAS thread each.

A sweep of fine-tuning runs (lesson 11's) is many small, independent jobs. Inside
one run a tiny model's matrix products are too small for two BLAS threads to help much
(lesson 03 measures why), but two *runs* at once keep both cores busy. So:

    results = run_jobs("minipeft.train.family:train_run", jobs)   # in job order

starts ``workers`` child processes (default: one per usable core), each with

    OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = 1,  MINIPEFT_DEVICE = this process's device,

and hands each child the next job as soon as it finishes the last one. The protocol is one
line of JSON each way per job: ``{"function": "module:name", "job": {...}}`` in, and
``{"result": ...}`` or ``{"error": traceback}`` out. A job and its result are therefore plain
data (numbers, strings, lists, dicts); weights travel as files the job writes.

With one worker, or on a GPU (one device, shared), the jobs run here, one after another, and
no process is started. Both ways give the same results up to the last bits of a float: BLAS
with one thread may sum in another order than with two.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import subprocess
import sys
import threading
import traceback

from ..backend import get_device
from ..bench.threads import THREAD_VARIABLES
from ..bench.timing import child_env


def usable_cores() -> int:
    """How many cores this process may run on (its CPU affinity where the OS says, else the count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_workers() -> int:
    """One worker per usable core on a CPU; one on a GPU (a single device, shared)."""
    return usable_cores() if get_device() == "cpu" else 1


def resolve(function: str):
    """The function named "package.module:name"."""
    module_name, _, name = function.partition(":")
    if not module_name or not name:
        raise ValueError(f"run_jobs: function must be named 'package.module:name', got {function!r}")
    target = getattr(importlib.import_module(module_name), name, None)
    if not callable(target):
        raise ValueError(f"run_jobs: {module_name} has no function {name!r}")
    return target


def run_jobs(function: str, jobs: list, workers: int | None = None) -> list:
    """``[resolve(function)(job) for job in jobs]``, the jobs spread over ``workers`` processes.

    ``workers``: default one per usable core on a CPU, 1 on a GPU; with 1 the jobs run in this
    process. A job that raises stops the sweep with RuntimeError naming the job and the child's
    traceback.
    """
    resolve(function)  # a bad name fails here, before any process starts
    jobs = list(jobs)
    if workers is None:
        workers = default_workers()
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"run_jobs: workers must be a positive int, got {workers!r}")
    workers = min(workers, len(jobs))
    if workers <= 1:
        return [resolve(function)(job) for job in jobs]
    return _run_in_children(function, jobs, workers)


def _run_in_children(function: str, jobs: list, workers: int) -> list:
    env = child_env(MINIPEFT_DEVICE=get_device(), **{name: 1 for name in THREAD_VARIABLES})
    todo = queue.Queue()
    for index, job in enumerate(jobs):
        todo.put(index)
    pending = object()  # a job's place until its answer comes (None is a valid answer)
    results, failures = [pending] * len(jobs), []

    def serve(child: subprocess.Popen) -> None:
        """Feed ``child`` jobs until none are left (or one failed), collecting its answers."""
        while not failures:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            try:
                child.stdin.write(json.dumps({"function": function, "job": jobs[index]}) + "\n")
                child.stdin.flush()
                answer = child.stdout.readline()
            except OSError:  # the worker is gone (a broken pipe)
                answer = ""
            if not answer:
                failures.append(f"job {jobs[index]!r}: the worker process died (exit {child.wait()})")
            elif "error" in json.loads(answer):
                failures.append(f"job {jobs[index]!r} failed in a worker:\n{json.loads(answer)['error']}")
            else:
                results[index] = json.loads(answer)["result"]

    children = [subprocess.Popen([sys.executable, "-m", "minipeft.train.processes"], env=env, text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(workers)]
    try:
        threads = [threading.Thread(target=serve, args=(child,)) for child in children]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for child in children:
            with contextlib.suppress(OSError):
                child.stdin.close()
            child.wait()
    if failures:
        raise RuntimeError(failures[0])
    if any(result is pending for result in results):
        raise RuntimeError("run_jobs: some jobs got no answer (a worker thread stopped)")
    return results


def _serve_stdin() -> None:
    """The worker's loop: one JSON job per line of stdin, one JSON answer per line of stdout.
    Whatever a job prints goes to stderr, so that stdout carries only answers."""
    answers = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                answer = {"result": resolve(request["function"])(request["job"])}
        except Exception:  # noqa: BLE001 - the parent reports it with the job
            answer = {"error": traceback.format_exc()}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    _serve_stdin()
