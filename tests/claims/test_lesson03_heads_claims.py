"""Lesson 03's trained heads: every claim the notebook makes, for seeds 0-4 and 1 and 4 threads.

The notebook trains seed 0 with the course's thread count and prints thresholded facts; here each
claimed gap is asserted for five seeds at torch thread counts 1 and 4 (about two minutes on 2 cores).
The task itself, the claims' reading and the tools they use (a head's removal, the uniform
control) are tested fast in tests/experiments/test_trained_heads.py.
"""
import pytest

from course_lib.experiments.trained_heads import claims, evaluate, fit, make_task, without_head
from course_lib.layers.models import count_parameters


@pytest.mark.parametrize("threads", [1, 4], indirect=True, ids=lambda t: f"{t}threads")
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_two_heads_take_one_job_each_and_the_controls_fall_short(seed, threads):
    train, test = make_task(seed=seed)
    model = fit("2 heads", train, seed=seed, progress=False)
    run = {"2 heads": evaluate(model, test)}
    # Ablation: removing a head removes its job, and only its job.
    run.update({f"without head {h}": evaluate(without_head(model, h), test) for h in range(2)})
    # Controls at equal parameters and steps: one head; uniform weights.
    one_head = fit("1 head", train, seed=seed, progress=False)
    uniform = fit("uniform weights", train, seed=seed, progress=False)
    sizes = [count_parameters(m, include_frozen=True) for m in (one_head, model, uniform)]
    assert sizes[0] == sizes[1] == sizes[2]
    # the uniform control's query projection is frozen: only include_frozen counts it
    assert count_parameters(uniform) < sizes[2] == count_parameters(model)
    run.update({"1 head": evaluate(one_head, test), "uniform weights": evaluate(uniform, test)})
    facts = claims(run)
    assert len(facts) == 10, sorted(facts)                 # every claim had the models it reads
    assert all(facts.values()), {k: v for k, v in facts.items() if not v}
