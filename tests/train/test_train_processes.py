"""minipeft.train.processes: independent jobs spread over worker processes, results in job order.

The jobs here are standard-library functions named "module:name", so that a worker can import
them: json.dumps shows the order, os.getenv what the worker's environment holds.
"""
import json

import pytest

from minipeft.train.processes import default_workers, resolve, run_jobs, usable_cores


def test_results_come_back_in_job_order_from_two_workers():
    jobs = [{"n": n, "text": "x" * n} for n in range(9)]
    assert run_jobs("json:dumps", jobs, workers=2) == [json.dumps(job) for job in jobs]


def test_one_worker_runs_the_jobs_here_with_the_same_results():
    jobs = [[1, 2], {"a": None}]
    assert run_jobs("json:dumps", jobs, workers=1) == run_jobs("json:dumps", jobs, workers=2)
    assert run_jobs("json:dumps", [], workers=2) == []


def test_workers_get_one_blas_thread_and_this_process_device():
    answers = run_jobs("os:getenv", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MINIPEFT_DEVICE"], workers=2)
    assert answers == ["1", "1", "cpu"]


def test_what_a_job_prints_does_not_break_the_answers():
    assert run_jobs("builtins:print", ["to stderr", "also"], workers=2) == [None, None]


def test_a_failing_job_names_itself_and_the_workers_traceback():
    with pytest.raises(RuntimeError, match=r"(?s)job -1\.0 failed in a worker.*math domain error"):
        run_jobs("math:sqrt", [4.0, -1.0, 9.0], workers=2)


def test_a_worker_that_dies_is_reported_with_its_exit_status():
    with pytest.raises(RuntimeError, match=r"job 3: the worker process died \(exit 3\)"):
        run_jobs("os:_exit", [3, 3], workers=2)  # two jobs: one job alone would run (and exit) here


@pytest.mark.parametrize("function, match", [("json", "module:name"), ("json:no_such", "no function"),
                                             ("no_such_module_here:f", "no_such_module_here")])
def test_bad_function_names_fail_before_any_process_starts(function, match):
    with pytest.raises((ValueError, ModuleNotFoundError), match=match):
        run_jobs(function, [1])


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_workers_must_be_a_positive_int(workers):
    with pytest.raises(ValueError, match=f"workers must be a positive int, got {workers!r}"):
        run_jobs("json:dumps", [1], workers=workers)


def test_default_workers_is_one_per_usable_core_on_a_cpu():
    assert default_workers() == usable_cores() >= 1
    assert resolve("json:dumps") is json.dumps
