"""Every claim lesson 05 makes about its trained image models (section 2), for seeds 0-2 and torch
threads 1 and 4, each next to the control that would expose a shortcut.

The notebook trains seed 0 at the course's thread count and prints only these thresholded facts
in its checked cells (``clutter.claims``, the same function); this test makes sure they are not
the luck of one run. The ranges measured when the thresholds were set are in the docstring of
``clutter.claims``. Section 3's video claims are in tests/test_lesson05_video_claims.py.
"""
import pytest

from course_lib import clutter

SEEDS = (0, 1, 2)
THREADS = (1, 4)


@pytest.fixture(scope="module")
def image_task():
    return clutter.make_task()


@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("seed", SEEDS)
def test_cluttered_digit_claims(image_task, seed, threads):
    train, test = image_task
    results = {p: clutter.evaluate(clutter.fit(p, train, seed=seed, progress=False), test)
               for p in clutter.ClutterClassifier.POOLINGS}
    facts = clutter.claims(results)
    summary = {p: round(r["accuracy"], 3) for p, r in results.items()}
    assert all(facts.values()), (seed, threads, summary, results["attention"]["mass"], facts)
