"""Every claim lesson 05 makes about a trained model (sections 2 and 3), for seeds 0-2 and torch
threads 1 and 4, each next to the control that would expose a shortcut.

The notebook trains seed 0 at the course's thread count and prints only these thresholded facts
in its checked cells (``clutter.claims`` and ``video.claims``, the same functions); this test makes
sure they are not the luck of one run. It trains 3 seeds x 2 thread counts x 6 models: a few
minutes on 2 cores. The ranges measured when the thresholds were set are in the docstrings of
``clutter.claims`` and ``video.claims``.
"""
import pytest

from course_lib import clutter, video

SEEDS = (0, 1, 2)
THREADS = (1, 4)


@pytest.fixture(scope="module")
def image_task():
    return clutter.make_task()


@pytest.fixture(scope="module")
def video_task():
    return video.make_task()


@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("seed", SEEDS)
def test_cluttered_digit_claims(image_task, seed, threads):
    train, test = image_task
    results = {p: clutter.evaluate(clutter.fit(p, train, seed=seed, progress=False), test)
               for p in clutter.ClutterClassifier.POOLINGS}
    facts = clutter.claims(results)
    summary = {p: round(r["accuracy"], 3) for p, r in results.items()}
    assert all(facts.values()), (seed, threads, summary, results["attention"]["mass"], facts)


@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("seed", SEEDS)
def test_video_claims(video_task, seed, threads):
    train, test = video_task
    results = {c: video.evaluate(video.fit(c, train, seed=seed, progress=False), c, test)
               for c in video.CONTROLS}
    facts = video.claims(results)
    summary = {c: round(r["accuracy"], 3) for c, r in results.items()}
    assert all(facts.values()), (seed, threads, summary, facts)
