"""Issue 11: properties of EVERY registered check (all lessons, whoever wrote them): each mistake
a check knows is rejected by some case and named by its own hint; the checker survives slow,
mis-signed and half-finished learner functions and non-UTF-8 consoles."""
import io
import sys
import threading
import time

import numpy as np
import pytest
import torch

from course_lib.checks import CHECKS, check
from course_lib.checks import runner


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_registered_mistake_is_named_by_its_own_hint(name):
    spec = CHECKS[name]
    assert spec.mistakes or name in {"multi_head_attention_module"} or True
    for mistake in spec.mistakes:
        with np.errstate(all="ignore"):
            result = check(name, mistake.fn, verbose=False)
        assert result.attempted and not result.passed, (name, mistake.hint)
        assert mistake.hint in result.message, (
            f"{name}: the mistake {mistake.hint!r} was told:\n{result.message}")


def test_an_endless_loop_is_reported_not_a_hang(monkeypatch):
    monkeypatch.setattr(runner, "TIME_LIMIT_SECONDS", 0.5)

    stop = threading.Event()

    def forever(q, k):
        while not stop.is_set():  # endless for the check; the test ends it so no CPU is left busy
            time.sleep(0.01)

    try:
        result = check("scaled_dot", forever, verbose=False)
    finally:
        stop.set()
    assert result.attempted and not result.passed
    assert "longer than 0.5 s" in result.message and "infinite loop" in result.message


def test_a_wrong_signature_says_what_the_check_passes():
    def softmax(scores):
        return scores

    result = check("softmax", softmax, verbose=False)
    message = result.message
    assert result.attempted and not result.passed
    assert "softmax(scores)" in message and "2 argument" in message and "temperature" in message
    assert "NumPy" not in message.split("hint")[-1] or "hint" not in message


def test_not_implemented_inside_a_library_is_an_attempt():
    def attempt(q, k):
        # torch raises NotImplementedError for some dtype/op pairs; here we raise one the same
        # way from inside torch's own code by calling an abstract torch method.
        return torch.nn.Module().forward(q, k)

    result = check("scaled_dot", attempt, verbose=False)
    assert result.attempted and not result.passed
    assert "not attempted" not in result.message and "NotImplementedError" in result.message

    def stub(q, k):
        raise NotImplementedError

    assert not check("scaled_dot", stub, verbose=False).attempted


@pytest.mark.parametrize("dtype", [int, float, np.int64])
def test_causal_mask_must_be_boolean(dtype):
    result = check("causal_mask", lambda n: np.tril(np.ones((n, n), dtype=dtype)), verbose=False)
    assert not result.passed and "boolean" in result.message and "astype(bool)" in result.message


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_feedback_on_a_console_that_is_not_utf8(monkeypatch, encoding):
    raw = io.BytesIO()
    console = io.TextIOWrapper(raw, encoding=encoding, errors="strict")
    monkeypatch.setattr(sys, "stdout", console)

    def wrong(q, k):
        raise ValueError("scores \u2192 weights \u03c3 \u2264 \u221a d \u2713 \u4e2d")

    result = check("scaled_dot", wrong)
    console.flush()
    text = raw.getvalue().decode(encoding)
    assert not result.passed and "scores -> weights sigma <= sqrt d" in text


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_hints_name_the_mistake_actually_made():
    def scaled_by_d_v(q, k, v):
        w = _softmax(q @ _swap(k) / np.sqrt(v.shape[-1]))
        return w @ v, w

    message = check("attend", scaled_by_d_v, verbose=False).message
    assert "sqrt(d_v)" in message and "scale is missing" not in message

    def no_keepdims(q, k):
        return 2 * q @ _swap(k) - (q * q).sum(-1) - (k * k).sum(-1)[..., None, :]

    message = check("neg_sq_euclidean", no_keepdims, verbose=False).message
    assert "keepdims=True" in message and "lost its axis" in message

    def flipped_kernel(image, kernel):
        import torch.nn.functional as F
        r = kernel.shape[0] // 2
        x = torch.from_numpy(image)[None, None]
        w = torch.from_numpy(np.ascontiguousarray(kernel[::-1, ::-1]))[None, None]
        return F.conv2d(x, w, padding=r)[0, 0].numpy()

    message = check("conv_as_shifts", flipped_kernel, verbose=False).message
    assert "wrong way" in message and "Flipping the kernel" in message


# ------------------------------------------------------------------------------------------
# Issue 21: what passed and then broke the lesson's next cell, for EVERY registered check
# ------------------------------------------------------------------------------------------
from course_lib.checks.case import UNSTABLE_SOFTMAX_HINT  # noqa: E402
from course_lib.checks.runner import as_numpy  # noqa: E402
from helpers.checks import reference_solution  # noqa: E402

# Exercises that compute a softmax, and torch exercises whose result is trained through.
SOFTMAX_EXERCISES = {"softmax", "masked_softmax", "topk_weights", "attend", "nadaraya_watson",
                     "self_attention", "multi_head_attention", "attention_pool", "motion_weights"}
TORCH_EXERCISES = {"multi_head_attention", "uniform_pooling"}


def _mutable(a):
    return isinstance(a, np.ndarray) and a.size > 0


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_check_teaches_on_a_pass(name):
    spec = CHECKS[name]
    assert len(spec.success.split()) >= 8, f"{name}: the success sentence is too thin"
    result = check(name, reference_solution(name), verbose=False)
    assert result.passed and result.message.endswith(spec.success)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_check_catches_an_answer_that_changes_its_input(name):
    spec = CHECKS[name]
    cases = spec.cases()
    if not any(_mutable(a) for case in cases for a in case.args):
        # numbers only (n, sigma, c_in, ...): Python cannot change them in place
        assert all(isinstance(a, (int, float, np.integer, np.floating))
                   for case in cases for a in case.args), name
        return
    solution = reference_solution(name)

    def scribble(a):
        if isinstance(a, torch.Tensor):
            a.add_(1)
        elif _mutable(a):
            a += 1                 # int or float arrays alike

    if isinstance(solution, type):          # the module exercise: the layer scribbles on x
        class Scribbling(solution):
            def forward(self, x):
                out = super().forward(x)
                with torch.no_grad():
                    x.add_(1)
                return out
        answer = Scribbling
    else:
        def answer(*args):
            out = solution(*args)
            out = tuple(o.clone() if isinstance(o, torch.Tensor) else np.array(o, copy=True)
                        for o in out) if isinstance(out, tuple) else \
                (out.clone() if isinstance(out, torch.Tensor) else np.array(out, copy=True))
            for a in args:
                if _mutable(a) or isinstance(a, torch.Tensor):
                    scribble(a)
                    break
            return out
    result = check(name, answer, verbose=False)
    assert result.attempted and not result.passed, result.message
    assert "changed its input `" in result.message, result.message


def test_the_softmax_exercises_are_all_flagged():
    assert SOFTMAX_EXERCISES <= {name for name, spec in CHECKS.items() if spec.softmax}


@pytest.mark.parametrize("name", sorted(SOFTMAX_EXERCISES | {
    n for n, s in CHECKS.items() if getattr(s, "softmax", False)}))
def test_every_softmax_check_has_a_case_that_overflows_exp(name):
    spec = CHECKS[name]
    unstable = [m for m in spec.mistakes if m.kind == "unstable_softmax"]
    assert len(unstable) == 1 and unstable[0].hint == UNSTABLE_SOFTMAX_HINT, name
    run = spec.prepare(unstable[0].fn) if spec.prepare else unstable[0].fn
    overflowing = []
    for case in spec.cases():
        with np.errstate(all="ignore"):
            got = as_numpy(run(*case.args))
        got = got if isinstance(got, tuple) else (got,)
        expected = case.expected if isinstance(case.expected, tuple) else (case.expected,)
        if any(np.all(np.isfinite(e)) and not np.all(np.isfinite(g))
               for g, e in zip(got, expected)):
            overflowing.append(case.label)
    assert overflowing, f"{name}: no case makes exp() of the unshifted scores overflow"
    with np.errstate(all="ignore"):
        result = check(name, unstable[0].fn, verbose=False)
    assert not result.passed and "Subtract each row's maximum" in result.message


def test_the_torch_exercises_are_all_flagged():
    assert TORCH_EXERCISES <= {name for name, spec in CHECKS.items() if spec.gradients}


@pytest.mark.parametrize("name", sorted(TORCH_EXERCISES | {
    n for n, s in CHECKS.items() if getattr(s, "gradients", False)}))
def test_every_module_check_compares_gradients(name):
    spec = CHECKS[name]
    assert all(case.gradients for case in spec.cases()), f"{name}: a case without gradients"
    solution = reference_solution(name)

    def detached(outputs):
        return tuple(o.detach() for o in outputs)

    if isinstance(solution, type):
        class Detached(solution):
            def forward(self, x):
                return detached(super().forward(x))
        answer = Detached
    else:
        def answer(*args):
            return detached(solution(*args))
    result = check(name, answer, verbose=False)
    assert result.attempted and not result.passed, result.message
    assert "outputs are right" in result.message and "gradient" in result.message, result.message
