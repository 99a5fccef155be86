"""Every claim lesson 05 section 2 makes about its trained models (cluttered digits), for seeds 0-4
at torch threads 1 and 4: attention beside uniform pooling, the ink rule, global max pooling and a
learned fixed mixing, with the same features, classifier, data and steps.

The notebook trains seed 0 of the attention model live and prints every other run from
course_lib/experiments/sweeps/lesson05_images.json; at 1 thread (the sweep's setting) this test also checks
that the stored runs are what training gives, so a stored number cannot go stale.
"""
import pytest

from course_lib.experiments import clutter, sweeps

SEEDS = (0, 1, 2, 3, 4)
THREADS = (1, 4)
_runs: dict = {}


@pytest.fixture
def run(seed, threads):
    # one training of every pooling per (seed, threads), shared by the tests that read it
    if (seed, threads) not in _runs:
        _runs[seed, threads] = clutter.run_seed(seed)
    return _runs[seed, threads]


@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("seed", SEEDS)
def test_cluttered_digit_claims(seed, threads, run):
    facts = clutter.claims(run)
    summary = {p: (round(r["accuracy"], 3), round(r["mass"], 3)) for p, r in run.items()}
    assert all(facts.values()), (seed, threads, summary, facts)


@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_stored_sweep_is_what_training_gives(seed, threads, run):
    sweep = sweeps.load("lesson05_images")
    if threads != sweep["threads"]:
        pytest.skip(f"the sweep was stored at {sweep['threads']} thread(s)")
    assert sweeps.agrees_with(sweep, seed, run) == []
