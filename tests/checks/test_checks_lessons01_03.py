"""The exercise checks of lessons 01-03 on hand-written answers.

Beyond the registered mistakes (tested generically elsewhere) we try answers learners really write:
``.T`` on batched inputs, float32 arithmetic, torch tensors as results, in-place edits of the
inputs (caught since issue 21: the lesson's next cells reuse their arrays), a forgotten ``return``.
Right answers in any of these styles must pass; wrong ones must be rejected with a hint that names
the problem, and the checker must never raise.
"""
import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.checks import CHECKS, check


def swap(x):
    return np.swapaxes(x, -1, -2)


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# ---------------------------------------------------------------- right answers, several styles
def scaled_dot_numpy(q, k):
    return q @ swap(k) / np.sqrt(q.shape[-1])


def scaled_dot_torch(q, k):
    q, k = torch.as_tensor(q), torch.as_tensor(k)
    return q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5


def scaled_dot_float32(q, k):
    q, k = q.astype(np.float32), k.astype(np.float32)
    return q @ swap(k) / np.float32(np.sqrt(q.shape[-1]))


def scaled_dot_in_place(q, k):
    q /= np.sqrt(q.shape[-1])          # right numbers, but the caller's q is changed (issue 21)
    return q @ swap(k)


def cosine_numpy(q, k):
    return unit(q) @ swap(unit(k))


def cosine_torch_float32(q, k):
    q, k = torch.as_tensor(q, dtype=torch.float32), torch.as_tensor(k, dtype=torch.float32)
    return torch.nn.functional.normalize(q, dim=-1) @ torch.nn.functional.normalize(k, dim=-1).transpose(-1, -2)


def neg_sq_numpy(q, k):
    return 2 * q @ swap(k) - (q**2).sum(-1)[..., :, None] - (k**2).sum(-1)[..., None, :]


def neg_sq_brute_force(q, k):
    return -((q[..., :, None, :] - k[..., None, :, :]) ** 2).sum(-1)


def top_matches_numpy(v, i, n):
    s = unit(v) @ unit(v[i])
    s[i] = -np.inf
    return np.argsort(-s)[:n]


def top_matches_list(v, i, n):
    return [int(j) for j in top_matches_numpy(v, i, n)]


def softmax_numpy(s, t):
    z = s / t
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def softmax_torch_float32(s, t):
    return torch.softmax(torch.as_tensor(s, dtype=torch.float32) / t, dim=-1)


def masked_softmax_numpy(s, m):
    z = np.where(m, s, -np.inf)
    mx = z.max(-1, keepdims=True)
    e = np.exp(z - np.where(np.isfinite(mx), mx, 0))
    tot = e.sum(-1, keepdims=True)
    return e / np.where(tot > 0, tot, 1)


def masked_softmax_torch(s, m):
    s, m = torch.as_tensor(s), torch.as_tensor(m)
    w = torch.softmax(s.masked_fill(~m, -torch.inf), dim=-1)
    return torch.nan_to_num(w, nan=0.0)


def causal_mask_compare(n):
    return np.arange(n)[None, :] <= np.arange(n)[:, None]


def causal_mask_float(n):
    return np.tril(np.ones((n, n)))        # 1.0 / 0.0 instead of booleans: softmax_weights refuses it


def topk_numpy(s, k):
    kth = np.sort(s, -1)[..., -k][..., None]
    return masked_softmax_numpy(s, s >= kth)


def topk_torch(s, k):
    s = torch.as_tensor(s)
    idx = s.topk(k, dim=-1).indices
    keep = torch.zeros_like(s, dtype=torch.bool).scatter(-1, idx, True)
    return torch.softmax(s.masked_fill(~keep, -torch.inf), -1)


def attend_numpy(q, k, v):
    w = softmax_numpy(q @ swap(k) / np.sqrt(q.shape[-1]), 1.0)
    return w @ v, w


def attend_torch_sdpa(q, k, v):
    q, k, v = (torch.as_tensor(a) for a in (q, k, v))
    w = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, -1)
    return torch.nn.functional.scaled_dot_product_attention(q, k, v), w


def attend_einsum_float32(q, k, v):
    q, k, v = (a.astype(np.float32) for a in (q, k, v))
    w = softmax_numpy(np.einsum("...id,...jd->...ij", q, k) / np.sqrt(np.float32(q.shape[-1])), 1.0)
    return np.einsum("...ij,...jd->...id", w, v), w


def nw_numpy(xq, x, y, width):
    return softmax_numpy(-(xq[:, None] - x[None, :]) ** 2 / (2 * width**2), 1.0) @ y


def nw_library(xq, x, y, width):
    from course_lib.attention.kernel_regression import nadaraya_watson
    return nadaraya_watson(xq, x, y, width)[0]


def self_attention_numpy(x, wq, wk, wv):
    return attend_numpy(x @ wq, x @ wk, x @ wv)


def self_attention_torch(x, wq, wk, wv):
    x, wq, wk, wv = (torch.as_tensor(a) for a in (x, wq, wk, wv))
    return cl.attend(x @ wq, x @ wk, x @ wv)


def split_heads_numpy(x, h):
    *b, n, d = x.shape
    return np.swapaxes(x.reshape(*b, n, h, d // h), -2, -3)


def split_heads_torch(x, h):
    t = torch.as_tensor(x)
    return t.unflatten(-1, (h, t.shape[-1] // h)).transpose(-2, -3)


RIGHT = [
    ("attend", attend_numpy), ("attend", attend_torch_sdpa), ("attend", attend_einsum_float32),
    ("nadaraya_watson", nw_numpy), ("nadaraya_watson", nw_library),
    ("self_attention", self_attention_numpy), ("self_attention", self_attention_torch),
    ("split_heads", split_heads_numpy), ("split_heads", split_heads_torch),
    ("softmax", softmax_numpy), ("softmax", softmax_torch_float32),
    ("masked_softmax", masked_softmax_numpy), ("masked_softmax", masked_softmax_torch),
    ("causal_mask", causal_mask_compare),
    ("topk_weights", topk_numpy), ("topk_weights", topk_torch),
    ("scaled_dot", scaled_dot_numpy), ("scaled_dot", scaled_dot_torch),
    ("scaled_dot", scaled_dot_float32),
    ("cosine", cosine_numpy), ("cosine", cosine_torch_float32),
    ("neg_sq_euclidean", neg_sq_numpy), ("neg_sq_euclidean", neg_sq_brute_force),
    ("top_matches", top_matches_numpy), ("top_matches", top_matches_list),
]


@pytest.mark.parametrize("name, fn", RIGHT, ids=[f"{n}-{f.__name__}" for n, f in RIGHT])
def test_right_answers_pass(name, fn, capsys):
    result = check(name, fn)
    assert result.passed, capsys.readouterr().out
    assert "passed all" in capsys.readouterr().out


# ---------------------------------------------------------------- wrong answers and their hints
def naive_softmax(s, t):
    with np.errstate(over="ignore", invalid="ignore"):   # overflowing is the point of this one
        e = np.exp(s / t)
        return e / e.sum(-1, keepdims=True)


def naive_nw(xq, x, y, width):
    with np.errstate(invalid="ignore"):                   # 0 / 0 far from the data
        kernel = np.exp(-(xq[:, None] - x[None, :]) ** 2 / (2 * width**2))
        return (kernel / kernel.sum(1, keepdims=True)) @ y


WRONG = [
    ("attend", lambda q, k, v: attend_numpy(q, k, v)[0], "expected 2 output(s) as a tuple"),
    ("attend", lambda q, k, v: (lambda w: (w @ v, w))(softmax_numpy(q @ k.T / np.sqrt(q.shape[-1]), 1.0)),
     "not x.T"),
    ("attend", lambda q, k, v: (lambda w: (w @ v, w))(softmax_numpy(q @ swap(k), 1.0)), "1/sqrt(d) scale"),
    ("attend", lambda q, k, v: tuple(reversed(attend_numpy(q, k, v))), "returned the weights where"),
    ("attend", lambda q, k, v: (lambda w: (swap(w) @ v, w))(softmax_numpy(q @ swap(k) / np.sqrt(q.shape[-1]), 1.0)),
     "a shape problem"),
    ("nadaraya_watson", naive_nw, "Subtract each row's maximum"),
    ("nadaraya_watson", lambda xq, x, y, w: softmax_numpy(-(xq[:, None] - x[None, :]) ** 2 / (2 * w), 1.0) @ y,
     "width is not squared"),
    ("nadaraya_watson", lambda xq, x, y, w: np.exp(-(xq[:, None] - x[None, :]) ** 2 / (2 * w**2)) @ y,
     "not normalised"),
    ("nadaraya_watson", lambda xq, x, y, w: (softmax_numpy(-(xq[:, None] - x[None, :]) ** 2 / (2 * w**2), 1.0), y),
     "expected 1 output"),
    ("self_attention", lambda x, wq, wk, wv: attend_numpy(x, x, x), "projections are missing"),
    ("self_attention", lambda x, wq, wk, wv: attend_numpy(x @ wk, x @ wq, x @ wv), "swapped"),
    ("self_attention", lambda x, wq, wk, wv: (lambda w: (w @ (x @ wv), w))(
        softmax_numpy((x @ wq) @ swap(x @ wk) / np.sqrt(x.shape[-1]), 1.0)), "sqrt(d_model)"),
    ("split_heads", lambda x, h: x.reshape(*x.shape[:-2], h, x.shape[-2], x.shape[-1] // h),
     "cuts the token axis"),
    ("split_heads", lambda x, h: split_heads_numpy(x, h)[..., 0, :, :], "batch dimensions were lost"),
    ("split_heads", lambda x, h: np.swapaxes(split_heads_numpy(x, h), -1, -2), "tokens and features are swapped"),
    ("softmax", naive_softmax, "Subtract each row's maximum"),
    ("softmax", lambda s, t: torch.softmax(torch.as_tensor(s) / t, dim=0), "wrong axis"),
    ("softmax", lambda s, t: softmax_numpy(s, 1 / t), "multiplied by the temperature"),
    ("softmax", lambda s, t: softmax_numpy(s, t)[..., 0], "batch dimensions were lost"),
    ("masked_softmax", lambda s, m: softmax_numpy(np.where(m, s, 0.0), 1.0), "exp(0) = 1"),
    ("masked_softmax", lambda s, m: softmax_numpy(s, 1.0) * m, "no longer sum to 1"),
    ("masked_softmax", lambda s, m: torch.softmax(torch.as_tensor(s).masked_fill(
        ~torch.as_tensor(m), -torch.inf), -1), "came out as NaN"),
    ("masked_softmax", lambda s, m: softmax_numpy(np.where(m, s, -1e9), 1.0), "got equal weights"),
    ("masked_softmax", lambda s, m: masked_softmax_numpy(s, ~m), "mask is inverted"),
    ("causal_mask", lambda n: np.tril(np.ones((n, n), dtype=bool)).T, "see the future"),
    ("causal_mask", lambda n: np.tril(np.ones((n, n), dtype=bool), -1), "diagonal is missing"),
    ("causal_mask", lambda n: np.tril(np.ones((n, n), dtype=bool))[None], "extra dimensions"),
    ("causal_mask", causal_mask_float, "must be boolean"),
    ("topk_weights", lambda s, k: masked_softmax_numpy(s, s <= np.sort(s, -1)[..., k - 1][..., None]),
     "smallest"),
    ("topk_weights", lambda s, k: np.where(s >= np.sort(s, -1)[..., -k][..., None], softmax_numpy(s, 1), 0),
     "no longer sums to 1"),
    # (check, wrong function, words the feedback must contain)
    ("scaled_dot", lambda q, k: q @ k.T / np.sqrt(q.shape[-1]), "not x.T"),
    ("scaled_dot", lambda q, k: (q @ swap(k) / np.sqrt(q.shape[-1])).astype(np.float16),
     "expected"),
    ("scaled_dot", lambda q, k: torch.as_tensor(q) @ torch.as_tensor(k).transpose(-1, -2),
     "divide by sqrt(d)"),
    ("scaled_dot", lambda q, k: swap(q @ swap(k)) / np.sqrt(q.shape[-1]), "computed k @ q^T"),
    ("scaled_dot", lambda q, k: (q @ swap(k) / np.sqrt(q.shape[-1]))[..., 0, :], "batch dimensions were lost"),
    ("scaled_dot", lambda q, k: None, "`return` statement missing"),
    ("scaled_dot", scaled_dot_in_place, "changed its input `q`"),
    ("scaled_dot", lambda q, k: np.sqrt(q.shape[-1]) * q @ swap(k) / q.shape[-1] ** 1.5, "divided by d"),
    ("cosine", lambda q, k: unit(q) @ unit(k).T, "not x.T"),
    ("cosine", lambda q, k: q @ swap(k) / (np.linalg.norm(q) * np.linalg.norm(k)), "Compare your result"),
    ("cosine", lambda q, k: unit(q) @ swap(k), "Only the queries were normalised"),
    ("cosine", lambda q, k: (q / np.linalg.norm(q, axis=-1)) @ swap(k / np.linalg.norm(k, axis=-1)),
     "keepdims=True"),
    ("scaled_dot", lambda q, k: np.dot(q, swap(k)) / np.sqrt(q.shape[-1]), "np.dot does not broadcast"),
    ("neg_sq_euclidean", lambda q, k: ((q[..., :, None, :] - k[..., None, :, :]) ** 2).sum(-1), "sign is wrong"),
    ("neg_sq_euclidean", lambda q, k: -np.sqrt(((q[..., :, None, :] - k[..., None, :, :]) ** 2).sum(-1)),
     "*squared* distance"),
    ("top_matches", lambda v, i, n: np.argsort(-(unit(v) @ unit(v[i])))[:n], "query itself is in your answer"),
    ("top_matches", lambda v, i, n: np.argsort(unit(v) @ unit(v[i]))[:n], "least"),
    ("top_matches", lambda v, i, n: 1 / 0, "ZeroDivisionError"),
]


@pytest.mark.parametrize("name, fn, words", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_wrong_answers_are_rejected_with_a_useful_hint(name, fn, words, capsys):
    result = check(name, fn)
    out = capsys.readouterr().out
    assert not result.passed and result.attempted
    assert words in out, out


@pytest.mark.parametrize("name", ["scaled_dot", "cosine", "neg_sq_euclidean", "top_matches", "softmax",
                                  "masked_softmax", "causal_mask", "topk_weights", "attend",
                                  "nadaraya_watson", "self_attention", "split_heads"])
def test_unfinished_exercise_is_not_attempted_yet(name, capsys):
    def unfinished(*args):
        raise NotImplementedError("not attempted yet")

    result = check(name, unfinished)
    assert not result.passed and not result.attempted
    assert "not attempted yet" in capsys.readouterr().out


def test_float32_answer_passes_but_float16_does_not():
    # float32 is right to float32 precision; float16 loses too many digits to count as right.
    assert check("scaled_dot", scaled_dot_float32, verbose=False).passed
    half = lambda q, k: scaled_dot_numpy(q, k).astype(np.float16)  # noqa: E731
    assert not check("scaled_dot", half, verbose=False).passed


MY_CHECKS = ["cosine", "neg_sq_euclidean", "top_matches", "masked_softmax", "causal_mask",
             "topk_weights", "nadaraya_watson", "self_attention", "split_heads"]
PATHOLOGICAL = [
    lambda *a: "scores",                        # a string
    lambda *a: {"weights": 1},                  # a dict
    lambda *a: [np.zeros(3), np.zeros(3), 1],   # a ragged list
    lambda *a: np.full((2, 2), np.nan),         # NaN of the wrong shape
    lambda *a: np.zeros((2, 2), dtype=complex),
    lambda *a: (np.zeros(1),) * 5,              # too many outputs
    lambda *a: {}["missing"],                   # KeyError inside the learner's code
    lambda *a: a[0][10 ** 6],                   # IndexError
]


@pytest.mark.parametrize("name", MY_CHECKS)
def test_the_checker_never_crashes_on_strange_answers(name, capsys):
    for fn in PATHOLOGICAL:
        result = check(name, fn)
        assert not result.passed and result.attempted
    assert "Traceback" not in capsys.readouterr().out


@pytest.mark.parametrize("name", MY_CHECKS)
def test_every_new_check_has_a_task_and_at_least_three_mistakes(name):
    spec = CHECKS[name]
    assert spec.task and len(spec.mistakes) >= 3
    assert len(spec.cases()) >= 3
