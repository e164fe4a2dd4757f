"""Workers: batches of CPU work on threads that each run torch on one thread."""

from __future__ import annotations

import threading

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.workers import Workers, in_worker


@pytest.fixture
def two_torch_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_results_come_back_in_order_and_as_computed():
    workers = Workers(3)
    items = list(range(25))
    assert workers.map(lambda x: torch.tensor(x).pow(2).item(), items) == [x * x for x in items]
    assert workers.map(lambda x: x, []) == []
    workers.close()


def test_each_worker_runs_torch_on_one_thread_and_the_caller_keeps_its_count(two_torch_threads):
    workers = Workers(2)
    seen = workers.map(lambda _: (torch.get_num_threads(), in_worker(), threading.current_thread().name), range(8))
    assert {n for n, _, _ in seen} == {1}
    assert all(inside for _, inside, _ in seen)
    assert all(name.startswith("seqlab-worker") for _, _, name in seen)
    assert torch.get_num_threads() == 2 and not in_worker()
    later: list[int] = []  # a thread started afterwards gets the caller's count, not the workers'
    t = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
    t.start()
    t.join()
    assert later == [2]
    workers.close()


def test_work_runs_in_inference_mode_on_every_thread():
    workers = Workers(2)
    assert all(workers.map(lambda _: torch.is_inference_mode_enabled(), range(4)))
    assert all(Workers(1).map(lambda _: torch.is_inference_mode_enabled(), range(2)))
    workers.close()


def test_one_worker_or_one_item_runs_in_the_calling_thread():
    me = threading.current_thread()
    assert Workers(1).map(lambda _: threading.current_thread(), range(3)) == [me] * 3
    assert Workers(4).map(lambda _: threading.current_thread(), [0]) == [me]


def test_an_error_in_one_item_is_raised_to_the_caller():
    workers = Workers(2)

    def fail_on_3(x: int) -> int:
        if x == 3:
            raise ValueError("item 3 is bad")
        return x

    with pytest.raises(ValueError, match="item 3 is bad"):
        workers.map(fail_on_3, range(6))
    assert workers.map(fail_on_3, [0, 1, 2]) == [0, 1, 2]  # the workers are still there
    workers.close()


def test_work_handed_out_from_a_worker_runs_in_place_instead_of_waiting_for_itself():
    workers = Workers(2)
    result: list = []

    def outer(x: int) -> list[int]:
        return workers.map(lambda y: 10 * x + y, range(3))

    t = threading.Thread(target=lambda: result.append(workers.map(outer, range(4))))
    t.start()
    t.join(timeout=60)
    assert not t.is_alive(), "nested map deadlocked"
    assert result == [[[10 * x + y for y in range(3)] for x in range(4)]]
    workers.close()


def test_count_below_one_is_refused():
    with pytest.raises(ConfigError, match="workers must be >= 1"):
        Workers(0)
