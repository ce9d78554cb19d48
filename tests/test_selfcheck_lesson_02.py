"""Lesson 02's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones."""

from __future__ import annotations

import functools
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

from helpers.selfcheck import lesson_02
from helpers.tasks import startmethods
from helpers.tasks.workers import whoami

# -- settings_everywhere -----------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
settings_solution = worked_solution("02_start_methods", "settings_everywhere", globals())


def settings_other_correct(value, method):
    """Correct too: an executor with the same initializer."""
    with ProcessPoolExecutor(
        2,
        mp_context=mp.get_context(method),
        initializer=startmethods.set_setting,
        initargs=(value,),
    ) as ex:
        return list(ex.map(startmethods.read_setting, range(4), timeout=20))


def settings_stub(value, method):
    """The stub the lesson ships: value ignored."""
    with mp.get_context(method).Pool(2) as pool:
        return pool.map(startmethods.read_setting, range(4))


def settings_set_in_parent(value, method):
    """The classic wrong answer: works under fork only."""
    startmethods.SETTING = value
    with mp.get_context(method).Pool(2) as pool:
        return pool.map(startmethods.read_setting, range(4))


# -- cubes_with_spawn --------------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
cubes_solution = worked_solution(
    "02_start_methods", "cubes_with_spawn", globals(), functools=functools
)


def cubes_other_correct(numbers):
    """Correct too: starmap over pairs with the built-in pow."""
    with mp.get_context("spawn").Pool(2) as pool:
        return pool.starmap(pow, [(n, 3) for n in numbers])


def cubes_stub(numbers):
    """The stub the lesson ships: computed in the caller's process."""
    return [n**3 for n in numbers]


def cubes_lambda(numbers):
    with mp.get_context("spawn").Pool(2) as pool:
        return pool.map(lambda n: n**3, numbers)


def cubes_wrong_values(numbers):
    with mp.get_context("spawn").Pool(2) as pool:
        return [tag for tag, _, _ in pool.map(whoami, numbers)]


settings, cubes = lesson_02.check_settings_everywhere, lesson_02.check_cubes_with_spawn
# Deliberately the same table shape as every lesson's self-check test (support/selfcheck_cases).
CASES = [
    *accepts(settings, settings_solution, settings_other_correct),
    rejects(settings, settings_stub, "initializer=startmethods.set_setting"),
    rejects(settings, settings_set_in_parent, "reaches only forked children"),
    *accepts(cubes, cubes_solution, cubes_other_correct),
    rejects(cubes, cubes_stub, "no worker process ran"),
    rejects(cubes, cubes_lambda, "A lambda cannot be sent"),
    rejects(cubes, cubes_wrong_values, "expected [1, 8, 27, 64, 125]"),
]

test_selfcheck = selfcheck_test(CASES)
