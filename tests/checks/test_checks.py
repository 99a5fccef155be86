"""The exercise checker: every registered check accepts the reference and names every mistake."""
import numpy as np
import pytest
import torch

from course_lib.checks import CHECKS, check
from course_lib.checks.runner import all_close, as_numpy, as_outputs
from helpers.checks import reference_solution

REQUIRED = {"scaled_dot", "softmax", "attend"}


def test_required_checks_exist():
    assert REQUIRED <= set(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_reference_answers_pass(name, capsys):
    result = check(name, reference_solution(name))
    assert result.passed and result.attempted
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_registered_mistake_is_rejected_with_its_hint(name, capsys):
    spec = CHECKS[name]
    for mistake in spec.mistakes:
        # A mistake only teaches if some case tells it apart from the right answer.
        distinguishable = False
        for case in spec.cases():
            expected = case.expected if isinstance(case.expected, tuple) else (case.expected,)
            try:
                with np.errstate(all="ignore"):
                    wrong = as_outputs(as_numpy(mistake.fn(*case.args)), len(expected))
            except Exception:
                distinguishable = True
                break
            if wrong is None or not all_close(wrong, expected, case):
                distinguishable = True
                break
        assert distinguishable, f"{name}: no case distinguishes the mistake {mistake.hint!r}"
        with np.errstate(all="ignore"):
            result = check(name, mistake.fn)
        assert not result.passed and result.attempted
        out = capsys.readouterr().out
        assert "expected" in out or "raised" in out
        if "raised" not in out:
            assert "hint:" in out


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_unfinished_exercise_is_not_attempted_not_a_crash(name, capsys):
    def unfinished(*args):
        raise NotImplementedError("not attempted yet")

    result = check(name, unfinished)
    assert not result.passed and not result.attempted
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_learner_bugs_become_feedback(name, capsys):
    def crashes(*args):
        return {}["oops"]

    def returns_nothing(*args):
        pass

    assert not check(name, crashes).passed
    assert "raised KeyError" in capsys.readouterr().out
    assert not check(name, returns_nothing).passed
    assert "return" in capsys.readouterr().out


def test_torch_answers_are_accepted():
    def scaled_dot(q, k):
        q, k = torch.as_tensor(q), torch.as_tensor(k)
        return (q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5).requires_grad_()

    assert check("scaled_dot", scaled_dot, verbose=False).passed


@pytest.mark.parametrize("name, fn, hint", [
    ("scaled_dot", lambda q, k: q @ k.T / np.sqrt(q.shape[-1]), "x.swapaxes(-1, -2)"),
    ("scaled_dot", lambda q, k: (q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]))[..., :1, :],
     "shape"),
    ("softmax", lambda s, t: np.exp(s / t) / np.exp(s / t).sum(-1, keepdims=True), "overflow"),
    ("softmax", lambda s, t: (np.exp((s - s.max()) / t) / np.exp((s - s.max()) / t).sum()),
     "each row"),
    ("attend", lambda q, k, v: (np.zeros(q.shape[:-1] + v.shape[-1:]), np.zeros(1)), "expected"),
])
def test_typical_learner_mistakes_get_a_hint(name, fn, hint, capsys):
    with np.errstate(all="ignore"):
        assert not check(name, fn).passed
    assert hint in capsys.readouterr().out


def test_unknown_check_name_lists_known_ones():
    with pytest.raises(ValueError, match="scaled_dot"):
        check("scaled-dot", lambda q, k: q)
