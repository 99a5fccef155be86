"""Lesson 03's trained heads (course_lib/experiments/trained_heads.py), fast: the task is what the
lesson says, removing a head zeroes exactly its block, the uniform control is uniform.

What the lesson claims about the trained heads is asserted for seeds 0-2 by
tests/claims/test_lesson03_heads_claims.py (a claims test: make claims).
"""
import pytest
import torch

from course_lib.experiments.trained_heads import (
    DIGITS, N, evaluate, make_sequences, token_labels, train_two_jobs, without_head,
)


def test_the_task_is_what_the_lesson_says():
    data = make_sequences(50, seed=3)
    letters, digits, targets, sources = (data[k] for k in ("letters", "digits", "targets", "sources"))
    assert torch.equal(letters.sort(1).values, torch.arange(N).expand(50, N)), "each a shuffle of A-H"
    assert digits.min() >= 0 and digits.max() < DIGITS
    for b in range(50):
        for i in range(N):
            assert targets[b, i, 0] == digits[b, (i - 1) % N]
            j = int((letters[b] == (letters[b, i] + 1) % N).nonzero())
            assert sources[b, i, 1] == j and targets[b, i, 1] == digits[b, j]
    assert token_labels(letters[0], digits[0])[0] == "ABCDEFGH"[letters[0, 0]] + str(int(digits[0, 0]))
    again = make_sequences(50, seed=3)
    assert all(torch.equal(data[k], again[k]) for k in data), "seeded"


def test_removing_a_head_zeroes_exactly_its_block():
    model = train_two_jobs(num_heads=2, seed=0, steps=2, progress=False)
    ablated = without_head(model, 1)
    w, w0 = ablated.attention.out_proj.weight, model.attention.out_proj.weight
    width = w.shape[1] // 2
    assert torch.all(w[:, width:] == 0) and torch.equal(w[:, :width], w0[:, :width])
    assert torch.any(w0[:, width:] != 0), "the original is untouched"
    with pytest.raises(ValueError, match="head must be in"):
        without_head(model, 2)


def test_uniform_control_really_has_uniform_weights():
    model = train_two_jobs(num_heads=2, seed=0, uniform=True, steps=20, progress=False)
    weights = evaluate(model, n_seq=10)["weights"]
    torch.testing.assert_close(weights, torch.full_like(weights, 1 / N))
