"""Lesson 03's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, as_completed

from helpers import timed
from helpers.selfcheck import lesson_03
from helpers.tasks import pools, workers

# -- as_they_finish ----------------------------------------------------------------------------


def finish_solution(limits, processes=2):
    """The worked solution shown in the lesson."""
    with mp.get_context().Pool(processes) as pool:
        finished = pool.imap_unordered(timed(workers.count_primes), limits)
        return [finished.next(timeout=20) for _ in limits]


def finish_other_correct(limits, processes=2):
    """Correct too: an executor and as_completed."""
    with ProcessPoolExecutor(processes, mp_context=mp.get_context()) as ex:
        futures = [ex.submit(timed(workers.count_primes), n) for n in limits]
        return [f.result() for f in as_completed(futures, timeout=20)]


def finish_stub(limits, processes=2):
    """The stub the lesson ships: pool.map, input order."""
    with mp.get_context().Pool(processes) as pool:
        return pool.map(timed(workers.count_primes), limits)


def finish_serial(limits, processes=2):
    return sorted((timed(workers.count_primes)(n) for n in limits), key=lambda r: r.end)


def finish_iterator_escapes(limits, processes=2):
    with mp.get_context().Pool(processes) as pool:
        return pool.imap_unordered(timed(workers.count_primes), limits)


def test_as_they_finish_accepts_right_answers(capsys):
    for answer in (finish_solution, finish_other_correct):
        assert lesson_03.check_as_they_finish(answer) is True, answer.__name__
        assert capsys.readouterr().out.startswith("✅")


def test_as_they_finish_rejects_the_stub(capsys):
    assert lesson_03.check_as_they_finish(finish_stub) is False
    out = capsys.readouterr().out
    assert out.startswith("❌") and "input order" in out and "imap_unordered" in out


def test_as_they_finish_rejects_serial_work(capsys):
    assert lesson_03.check_as_they_finish(finish_serial) is False
    assert "your own process" in capsys.readouterr().out


def test_as_they_finish_rejects_an_iterator_read_after_the_block(capsys):
    assert lesson_03.check_as_they_finish(finish_iterator_escapes, timeout=10) is False
    assert capsys.readouterr().out.startswith("❌")


# -- keep_every_result -------------------------------------------------------------------------


def keep_solution(items):
    """The worked solution shown in the lesson."""
    outcome = {}
    with mp.get_context().Pool(2) as pool:
        pending = {x: pool.apply_async(pools.square_in_worker, (x,)) for x in items}
        for x, result in pending.items():
            try:
                outcome[x] = result.get(timeout=20)
            except ValueError as exc:
                outcome[x] = exc
    return outcome


def keep_other_correct(items):
    """Correct too: an executor's futures."""
    outcome = {}
    with ProcessPoolExecutor(2, mp_context=mp.get_context()) as ex:
        futures = {x: ex.submit(pools.square_in_worker, x) for x in items}
        for x, future in futures.items():
            try:
                outcome[x] = future.result(timeout=20)
            except ValueError as exc:
                outcome[x] = exc
    return outcome


def keep_stub(items):
    """The stub the lesson ships: map loses everything."""
    with mp.get_context().Pool(2) as pool:
        try:
            return dict(zip(items, pool.map(pools.square_in_worker, items)))
        except ValueError:
            return {}


def keep_none_for_errors(items):
    outcome = {}
    with mp.get_context().Pool(2) as pool:
        for x in items:
            try:
                outcome[x] = pool.apply_async(pools.square_in_worker, (x,)).get(timeout=20)
            except ValueError:
                outcome[x] = None
    return outcome


def keep_serial(items):
    outcome = {}
    for x in items:
        try:
            outcome[x] = pools.square_in_worker(x)
        except ValueError as exc:
            outcome[x] = exc
    return outcome


def test_keep_every_result_accepts_right_answers(capsys):
    for answer in (keep_solution, keep_other_correct):
        assert lesson_03.check_keep_every_result(answer) is True, answer.__name__
        assert capsys.readouterr().out.startswith("✅")


def test_keep_every_result_rejects_the_stub(capsys):
    assert lesson_03.check_keep_every_result(keep_stub) is False
    out = capsys.readouterr().out
    assert out.startswith("❌") and "pool.map gives up" in out


def test_keep_every_result_rejects_none_for_errors(capsys):
    assert lesson_03.check_keep_every_result(keep_none_for_errors) is False
    assert "Store the exception itself" in capsys.readouterr().out


def test_keep_every_result_rejects_serial_work(capsys):
    assert lesson_03.check_keep_every_result(keep_serial) is False
    assert "your own process" in capsys.readouterr().out
