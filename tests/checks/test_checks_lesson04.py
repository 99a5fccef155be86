"""The exercise checks of lesson 04: right answers in several styles pass, each known mistake gets
its own hint (not just any hint), and unfinished exercises are 'not attempted yet'."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.checks import CHECKS, check


def nlm_score(q, k, h):
    return -((k - q) ** 2).mean(axis=(-2, -1)) / h**2


def nlm_score_torch(q, k, h):
    q, k = torch.as_tensor(q), torch.as_tensor(k)
    return -((k - q) ** 2).flatten(1).mean(-1) / h**2


def gaussian_kernel(sigma):
    r = math.ceil(3 * sigma)
    d = np.arange(-r, r + 1)
    k = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * sigma**2))
    return k / k.sum()


def gaussian_kernel_outer(sigma):  # separable: the outer product of two 1-D Gaussians
    r = math.ceil(3 * sigma)
    g = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma**2)).astype(np.float32)
    return np.outer(g, g) / np.outer(g, g).sum()


def receptive_field(n, k):
    return 1 + n * (k - 1)


def conv_as_shifts(image, kernel):
    r = kernel.shape[0] // 2
    h, w = image.shape
    padded = np.pad(image, r)
    return sum(kernel[dy + r, dx + r] * padded[r + dy : r + dy + h, r + dx : r + dx + w]
               for dy in range(-r, r + 1) for dx in range(-r, r + 1))


def conv_with_torch(image, kernel):
    k = kernel.shape[0]
    return F.conv2d(torch.as_tensor(image)[None, None], torch.as_tensor(kernel)[None, None],
                    padding=k // 2)[0, 0]


def receptive_field_loop(n, k):  # grow the field layer by layer
    width = 1
    for _ in range(n):
        width += 2 * (k // 2)
    return width


def gaussian_kernel_loops(sigma):  # plain Python loops, a list of lists
    r = math.ceil(3 * sigma)
    rows = [[math.exp(-(dy * dy + dx * dx) / (2 * sigma * sigma)) for dx in range(-r, r + 1)]
            for dy in range(-r, r + 1)]
    total = sum(map(sum, rows))
    return [[v / total for v in row] for row in rows]


def conv_as_shifts_roll(image, kernel):  # np.roll with the wrapped-around part zeroed
    r = kernel.shape[0] // 2
    h, w = image.shape
    out = np.zeros_like(image)
    rows, cols = np.indices(image.shape)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            shifted = np.roll(image, (-dy, -dx), axis=(0, 1))
            valid = (rows + dy >= 0) & (rows + dy < h) & (cols + dx >= 0) & (cols + dx < w)
            out += kernel[dy + r, dx + r] * np.where(valid, shifted, 0.0)
    return out


def loglog_exponent(n, t):
    return np.polyfit(np.log(n), np.log(t), 1)[0]


def loglog_exponent_log10(n, t):  # any base of logarithm gives the same slope
    return np.polyfit(np.log10(n), np.log10(t), 1)[0]


RIGHT = [("nlm_score", nlm_score), ("nlm_score", nlm_score_torch),
         ("gaussian_kernel", gaussian_kernel), ("gaussian_kernel", gaussian_kernel_outer),
         ("gaussian_kernel", gaussian_kernel_loops), ("receptive_field", receptive_field_loop),
         ("receptive_field", receptive_field), ("conv_as_shifts", conv_as_shifts),
         ("conv_as_shifts", conv_as_shifts_roll),
         ("conv_as_shifts", conv_with_torch), ("loglog_exponent", loglog_exponent),
         ("loglog_exponent", loglog_exponent_log10)]
LESSON04 = ["nlm_score", "gaussian_kernel", "receptive_field", "conv_as_shifts", "loglog_exponent"]


@pytest.mark.parametrize("name,fn", RIGHT)
def test_right_answers_in_several_styles_pass(name, fn):
    assert check(name, fn, verbose=False).passed


@pytest.mark.parametrize("name", LESSON04)
def test_each_mistake_gets_its_own_hint(name):
    for mistake in CHECKS[name].mistakes:
        result = check(name, mistake.fn, verbose=False)
        assert not result.passed and result.attempted
        assert mistake.hint in result.message, (name, mistake.hint)


def _shifts(image, kernel, rows_back=False, cols_back=False, transpose=False, mode="constant",
            flip=False):
    r = kernel.shape[0] // 2
    k = kernel[::-1, ::-1] if flip else (kernel.T if transpose else kernel)
    h, w = image.shape
    padded = np.pad(image, r, mode=mode)
    out = np.zeros_like(image)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            sy, sx = (-dy if rows_back else dy), (-dx if cols_back else dx)
            out += k[dy + r, dx + r] * padded[r + sy : r + sy + h, r + sx : r + sx + w]
    return out


def _gauss_with_radius(radius_of):
    def kernel(sigma):
        r = radius_of(3 * sigma)
        d = np.arange(-r, r + 1)
        k = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * sigma**2))
        return k / k.sum()
    return kernel


# The wrong answers named in issues 11 and 14, written as a learner would, each with words its
# hint must contain: the hint names *that* mistake, not a neighbour of it.
NAMED_WRONG = [
    ("nlm_score", lambda q, k, h: -((k - q) ** 2).mean(axis=(-2, -1)) / (2 * h**2), "2 h^2"),
    ("nlm_score", lambda q, k, h: -((k - q) ** 2).mean(axis=(-2, -1)) / h, "divided by h;"),
    ("gaussian_kernel", _gauss_with_radius(round), "round(3 * sigma)"),
    ("gaussian_kernel", _gauss_with_radius(int), "int(3 * sigma)"),
    ("receptive_field", lambda n, k: 2 + n * (k - 1), "starts at 1"),
    ("receptive_field", lambda n, k: 1 + (n - 1) * (k - 1), "one layer too few"),
    ("receptive_field", lambda n, k: 1 + (n + 1) * (k - 1), "one layer too many"),
    ("receptive_field", lambda n, k: n * (k - 1), "start from the single output pixel"),
    ("conv_as_shifts", lambda im, k: _shifts(im, k, rows_back=True, cols_back=True),
     "shifted the image the wrong way"),
    ("conv_as_shifts", lambda im, k: _shifts(im, k, flip=True), "wrong way"),
    ("conv_as_shifts", lambda im, k: _shifts(im, k, rows_back=True), "rows are shifted"),
    ("conv_as_shifts", lambda im, k: _shifts(im, k, cols_back=True), "columns are shifted"),
    ("conv_as_shifts", lambda im, k: _shifts(im, k, transpose=True), "transposed"),
    ("conv_as_shifts", lambda im, k: _shifts(im, k, mode="edge"), "mode='edge'"),
    ("conv_as_shifts", lambda im, k: _shifts(im, k, mode="reflect"), "'reflect'"),
]


@pytest.mark.parametrize("name,fn,words", NAMED_WRONG, ids=lambda x: x if isinstance(x, str) else "")
def test_named_wrong_answers_get_the_hint_that_names_them(name, fn, words):
    result = check(name, fn, verbose=False)
    assert not result.passed and result.attempted
    hint = result.message.split("hint: ", 1)[1]
    assert words in hint, (name, words, hint)


@pytest.mark.parametrize("name", LESSON04)
def test_every_mistake_is_caught_by_a_case_that_names_it(name):
    """No registered mistake hides behind another: on the first case where it goes wrong, no
    earlier-listed mistake gives the same output (that one's hint would be shown instead)."""
    from course_lib.checks.runner import all_close, as_numpy, as_outputs

    spec = CHECKS[name]
    cases = spec.cases()
    for i, mistake in enumerate(spec.mistakes):
        for case in cases:
            expected = case.expected if isinstance(case.expected, tuple) else (case.expected,)
            got = as_outputs(as_numpy(mistake.fn(*case.args)), len(expected))
            if got is not None and all_close(got, expected, case):
                continue                                  # this case cannot see the mistake
            for other in spec.mistakes[:i]:
                if other.hint == mistake.hint:
                    continue
                try:
                    theirs = as_outputs(as_numpy(other.fn(*case.args)), len(expected))
                except Exception:
                    continue
                assert theirs is None or not all_close(got, theirs, case), \
                    (name, mistake.hint, "hidden by", other.hint, case.label)
            break
        else:
            raise AssertionError(f"{name}: no case rejects the mistake {mistake.hint!r}")


@pytest.mark.parametrize("name", LESSON04)
def test_unfinished_is_not_attempted(name):
    def stub(*args):
        raise NotImplementedError("not attempted yet")

    result = check(name, stub, verbose=False)
    assert not result.attempted and "not attempted yet" in result.message


def test_learner_bug_becomes_feedback():
    result = check("conv_as_shifts", lambda image, kernel: image @ kernel, verbose=False)
    assert not result.passed and "raised" in result.message
