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


def loglog_exponent(n, t):
    return np.polyfit(np.log(n), np.log(t), 1)[0]


def loglog_exponent_log10(n, t):  # any base of logarithm gives the same slope
    return np.polyfit(np.log10(n), np.log10(t), 1)[0]


RIGHT = [("nlm_score", nlm_score), ("nlm_score", nlm_score_torch),
         ("gaussian_kernel", gaussian_kernel), ("gaussian_kernel", gaussian_kernel_outer),
         ("receptive_field", receptive_field), ("conv_as_shifts", conv_as_shifts),
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


@pytest.mark.parametrize("name", LESSON04)
def test_unfinished_is_not_attempted(name):
    def stub(*args):
        raise NotImplementedError("not attempted yet")

    result = check(name, stub, verbose=False)
    assert not result.attempted and "not attempted yet" in result.message


def test_learner_bug_becomes_feedback():
    result = check("conv_as_shifts", lambda image, kernel: image @ kernel, verbose=False)
    assert not result.passed and "raised" in result.message
