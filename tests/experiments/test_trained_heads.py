"""Lesson 03's trained heads (course_lib/experiments/trained_heads.py), fast: the task is what the
lesson says and holds out its test sequences, the claims read only the models they are given,
removing a head zeroes exactly its block, the uniform control is uniform.

What the lesson claims about the trained heads is asserted for seeds 0-2 by
tests/claims/test_lesson03_heads_claims.py (a claims test: make claims).
"""
import pytest
import torch

from course_lib.experiments.trained_heads import (
    DIGITS, N, claims, evaluate, fit, make_task, token_labels, two_job_sequences, without_head,
)


def test_claims_read_only_the_models_they_are_given():
    train, test = make_task(n_train=200, n_test=50)
    flat = evaluate(fit("uniform weights", train, steps=2, progress=False), test)
    assert list(claims({"uniform weights": flat})) == [
        "uniform weights: both digits right on <= 20%, each job <= 0.45"]
    assert claims({}) == {}


def test_the_task_is_what_the_lesson_says():
    data = two_job_sequences(50, seed=3)
    letters, digits, targets, sources = (data[k] for k in ("letters", "digits", "targets", "sources"))
    assert torch.equal(letters.sort(1).values, torch.arange(N).expand(50, N)), "each a shuffle of A-H"
    assert digits.min() >= 0 and digits.max() < DIGITS
    for b in range(50):
        for i in range(N):
            assert targets[b, i, 0] == digits[b, (i - 1) % N]
            j = int((letters[b] == (letters[b, i] + 1) % N).nonzero())
            assert sources[b, i, 1] == j and targets[b, i, 1] == digits[b, j]
    assert token_labels(letters[0], digits[0])[0] == "ABCDEFGH"[letters[0, 0]] + str(int(digits[0, 0]))
    again = two_job_sequences(50, seed=3)
    assert all(torch.equal(data[k], again[k]) for k in data), "seeded"


def test_removing_a_head_zeroes_exactly_its_block():
    model = fit("2 heads", make_task(n_train=200)[0], seed=0, steps=2, progress=False)
    ablated = without_head(model, 1)
    w, w0 = ablated.attention.out_proj.weight, model.attention.out_proj.weight
    width = w.shape[1] // 2
    assert torch.all(w[:, width:] == 0) and torch.equal(w[:, :width], w0[:, :width])
    assert torch.any(w0[:, width:] != 0), "the original is untouched"
    with pytest.raises(ValueError, match="head must be in"):
        without_head(model, 2)


def test_uniform_control_really_has_uniform_weights():
    model = fit("uniform weights", make_task(n_train=200)[0], seed=0, steps=20, progress=False)
    weights = evaluate(model, two_job_sequences(10, seed=5))["weights"]
    torch.testing.assert_close(weights, torch.full_like(weights, 1 / N))


def test_the_task_holds_out_its_test_sequences_and_names_unknown_models():
    train, test = make_task(n_train=30, n_test=20, seed=1)
    assert len(train["letters"]) == 30 and len(test["letters"]) == 20
    assert all(torch.equal(test[k], make_task(n_train=5, n_test=20, seed=2)[1][k]) for k in test), \
        "the held-out set does not depend on the training seed"
    with pytest.raises(ValueError, match="model_name='3 heads' is not known"):
        fit("3 heads", train, progress=False)
