"""Every claim lesson 05 makes about a trained model in section 3, for seeds 0-2 and torch
threads 1 and 4 (section 2's are in test_lesson05_images_claims.py).

The notebook trains seed 0 at the course's thread count and prints only these thresholded facts
in its checked cells (``video.claims``, the same function); this test makes sure they are not the
luck of one run. The ranges measured when the thresholds were set are in ``video.claims``.
"""
import pytest

from course_lib import video

SEEDS = (0, 1, 2)
THREADS = (1, 4)


@pytest.fixture(scope="module")
def video_task():
    return video.make_task()


@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("seed", SEEDS)
def test_video_claims(video_task, seed, threads):
    train, test = video_task
    results = {c: video.evaluate(video.fit(c, train, seed=seed, progress=False), c, test)
               for c in video.CONTROLS}
    facts = video.claims(results)
    summary = {c: round(r["accuracy"], 3) for c, r in results.items()}
    assert all(facts.values()), (seed, threads, summary, facts)
