"""Every claim lesson 06 makes about a trained model, for seeds 0-4 and 1 and 4 torch threads.

The notebook trains one seed on the machine it runs on; this test trains every experiment of the
notebook (same data, models, budgets and controls, from ``course_lib.capstone``) for seeds 0 to 4,
once with 1 torch thread and once with 4, and asserts each claim the prose states, one test per
claim. Each (seed, threads, model, task) is trained once per session and shared by every test that
reads it (:func:`_trained`). It takes many minutes. ``CAPSTONE_CLAIMS_THREADS=1,2,4,8`` widens the
sweep, ``CAPSTONE_CLAIMS_SEEDS=0,1,2,3,4,5,6,7`` too; ``-s`` prints every number (the ranges quoted
in the instructor guide come from that output).

Why several thread counts: torch sums in a different order with more threads, so the trajectories
of the same seed part after a few hundred steps. A budget that only converges on some of them
(the ViT's plateau on the long-range task ended too late on seed 2 at 4 threads, issue 18) is not a
budget the lesson can state a claim with. Known limit, not hidden: beyond these seeds the
long-range ViT is not yet safe (``CAPSTONE_CLAIMS_SEEDS=5,6`` fails "ViT > 0.9" with 1 thread:
0.82 and 0.87, see the comment on ``capstone.BUDGET``).
"""
import functools
import os

import pytest
import torch

from course_lib import capstone, training
from course_lib.models import mass_on_mask

THREADS = [int(t) for t in os.environ.get("CAPSTONE_CLAIMS_THREADS", "1,4").split(",")]
SEEDS = [int(s) for s in os.environ.get("CAPSTONE_CLAIMS_SEEDS", "0,1,2,3,4").split(",")]
RUNS = [(seed, threads) for seed in SEEDS for threads in THREADS]
KINDS = ("cnn", "vit", "vit, uniform weights")
BUDGETS = {"local": capstone.LOCAL_BUDGET, "long-range": capstone.BUDGET}   # as in the notebook


@functools.cache
def _tasks():
    return capstone.make_tasks()


@functools.cache
def _trained(seed: int, threads: int, kind: str, task: str):
    """Train ``kind`` on ``task`` once per session: ``(model, held-out accuracy)``."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        (x, y, _), (x_test, y_test, _) = _tasks()[task]
        model = capstone.make_model(kind, seed=seed)
        capstone.fit(model, (x, y), BUDGETS[task], seed=seed, progress=False)
        acc = training.accuracy(model, (x_test, y_test))
    finally:
        torch.set_num_threads(before)
    print(f"\nseed {seed} threads {threads}: {kind} / {task}: held-out accuracy {acc:.3f}")
    return model, acc


def _acc(seed, threads, kind, task):
    return _trained(seed, threads, kind, task)[1]


@functools.cache
def _pairs(seed: int, threads: int):
    """Accuracy of each long-range model on the controlled pairs, and the CNN's largest logit
    difference within a pair."""
    pairs, labels = capstone.controlled_pairs(100)
    score, cnn_gap = {}, None
    for kind in KINDS:
        logits, _ = training.predict(_trained(seed, threads, kind, "long-range")[0], pairs)
        score[kind] = (logits.argmax(1) == labels).float().mean().item()
        if kind == "cnn":
            cnn_gap = (logits[0::2] - logits[1::2]).abs().max().item()
    print(f"\nseed {seed} threads {threads}: controlled pairs "
          + ", ".join(f"{k} {v:.3f}" for k, v in score.items()) + f"; CNN logit gap {cnn_gap:.2e}")
    return score, cnn_gap


def test_parameters_within_ten_percent():
    cnn, vit = (sum(p.numel() for p in capstone.make_model(k).parameters()) for k in ("cnn", "vit"))
    uniform = sum(p.numel() for p in capstone.make_model("vit, uniform weights").parameters())
    assert abs(cnn / vit - 1) <= 0.1 and uniform == vit


# section 3: the local task
@pytest.mark.parametrize("seed, threads", RUNS)
def test_the_cnn_learns_the_local_task(seed, threads):
    assert _acc(seed, threads, "cnn", "local") > 0.85


@pytest.mark.parametrize("seed, threads", RUNS)
def test_the_cnn_does_at_least_as_well_as_the_vit_on_the_local_task(seed, threads):
    assert _acc(seed, threads, "cnn", "local") >= _acc(seed, threads, "vit", "local")


# section 3: the long-range task
@pytest.mark.parametrize("seed, threads", RUNS)
def test_the_vit_learns_the_long_range_task(seed, threads):
    assert _acc(seed, threads, "vit", "long-range") > 0.9


@pytest.mark.parametrize("seed, threads", RUNS)
def test_the_cnn_and_the_uniform_control_stay_near_chance(seed, threads):
    cnn, uniform = (_acc(seed, threads, k, "long-range") for k in ("cnn", "vit, uniform weights"))
    assert cnn < 0.6 and uniform < 0.7
    assert _acc(seed, threads, "vit", "long-range") - max(cnn, uniform) > 0.25


# section 4: controlled pairs
@pytest.mark.parametrize("seed, threads", RUNS)
def test_controlled_pairs(seed, threads):
    score, cnn_gap = _pairs(seed, threads)
    assert cnn_gap < 1e-4 and score["cnn"] == 0.5
    assert score["vit"] > 0.85 and score["vit, uniform weights"] < 0.7


# section 5: where the ViT's class token looks
@pytest.mark.parametrize("seed, threads", RUNS)
def test_the_class_token_looks_at_the_marks(seed, threads):
    (_, _, _), (test_x, _, test_m) = _tasks()["long-range"]
    vit = _trained(seed, threads, "vit", "long-range")[0]
    _, weights = training.predict(vit, test_x)
    both = test_m.any(1)
    ratios = []
    for layer in range(len(weights)):
        cls = vit.cls_attention(weights, layer=layer)
        mass, chance = mass_on_mask(cls / cls.sum(dim=(1, 2), keepdim=True), both)
        ratios.append(mass / chance)
    cnn = _trained(seed, threads, "cnn", "long-range")[0]
    sal_mass, sal_chance = capstone.mass_on_marks(capstone.saliency(cnn, test_x[:100]), both[:100])
    # the CNN's saliency is only printed: a CNN at chance may be constant (zero gradient)
    print(f"\nseed {seed} threads {threads}: class token on the marks / uniform, per layer "
          + ", ".join(f"{r:.2f}" for r in ratios) + f"; CNN saliency / uniform {sal_mass / sal_chance:.2f}")
    assert max(ratios) > 2
