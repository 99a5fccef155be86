"""Issue 11: a fuzzer over the public functions of COURSE_DESIGN.md.

Every call either returns the documented result (shape; finite where promised; weights >= 0 that
sum to 1 per row, or to 0 for a row with nothing allowed) or raises ValueError/TypeError whose
message names one of the arguments. Inputs: dtypes (bool, int, unsigned, float16/32/64, complex),
ranks, empty dimensions, NaN/inf, huge and tiny values, non-contiguous views, read-only arrays,
NumPy and torch, channel-first and channel-last images. No input is ever modified.
"""
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import course_lib as cl
from course_lib.attention.masks import causal_mask

FUZZ = settings(max_examples=60, suppress_health_check=list(HealthCheck), deadline=None)
DTYPES = [np.float64, np.float32, np.float16, np.int64, np.uint8, np.bool_, np.complex128]
SPECIAL = [0.0, 1.0, -1.0, 1e-300, 1e-170, 1e20, 1e160, 1e300, np.inf, -np.inf, np.nan]


@st.composite
def arrays(draw, shape, dtype=None, special=True, low=-3.0, high=3.0):
    """An array of ``shape`` with random values, some special; maybe a view, read-only, or torch."""
    dtype = draw(st.sampled_from(DTYPES)) if dtype is None else dtype
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, high, size=shape)
    if special and a.size and draw(st.booleans()):
        for _ in range(draw(st.integers(1, 3))):
            a.flat[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from(SPECIAL))
    with np.errstate(all="ignore"):
        if np.dtype(dtype).kind in "iub":
            a = np.nan_to_num(a, nan=0, posinf=100, neginf=-100).clip(-100, 100)
        a = a.astype(dtype)
    layout = draw(st.sampled_from(["plain", "view", "readonly", "torch"]))
    if layout == "view" and a.ndim:
        # the same values, laid out with a stride of 2 along the last axis
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        wide[..., ::2] = a
        a = wide[..., ::2]
    elif layout == "readonly":
        a.setflags(write=False)
    elif layout == "torch" and np.dtype(dtype) != np.uint8 or layout == "torch" and a.ndim:
        return torch.from_numpy(np.ascontiguousarray(a))
    return a


def _copy(x):
    return x.clone() if isinstance(x, torch.Tensor) else np.array(x, copy=True)


def _same(a, b):
    a, b = (x.numpy() if isinstance(x, torch.Tensor) else x for x in (a, b))
    return np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def call(fn, names, *args, **kwargs):
    """Run ``fn``; check that inputs are untouched and that an error names an argument.

    Returns the result, or None if ``fn`` raised an allowed error."""
    before = [_copy(a) if isinstance(a, (np.ndarray, torch.Tensor)) else a for a in args]
    try:
        with np.errstate(all="ignore"):
            result = fn(*args, **kwargs)
    except (ValueError, TypeError) as error:
        message = str(error)
        assert any(re.search(rf"\b{re.escape(n)}\b", message) for n in names), (
            f"{type(error).__name__} does not name any of {names}: {message}")
        result = None
    for a, b in zip(args, before):
        if isinstance(a, (np.ndarray, torch.Tensor)):
            assert _same(a, b), "an input was modified"
    return result


def is_real(x):
    dt = x.dtype
    return not (dt.is_complex if isinstance(dt, torch.dtype) else np.dtype(dt).kind == "c")


def as_f64(x):
    return x.detach().double().numpy() if isinstance(x, torch.Tensor) else np.array(x, np.float64)


def check_weights(w, scores_f64, allowed=None):
    """Weights >= 0, each row summing to 1 (0 if nothing may be attended), finite without NaN."""
    w = as_f64(w)
    nan_rows = np.isnan(scores_f64).any(-1)
    ok = ~nan_rows
    assert np.all(np.isfinite(w[ok])) and np.all(w[ok] >= 0)
    sums = w.sum(-1)
    possible = np.ones(sums.shape, bool) if allowed is None else allowed.any(-1)
    possible = possible & ~np.all(np.isneginf(np.where(allowed, scores_f64, -np.inf)
                                               if allowed is not None else scores_f64), -1)
    if w.shape[-1] == 0:
        assert w.size == 0
        return
    assert np.allclose(sums[ok & possible], 1.0, atol=2e-2)
    assert np.allclose(sums[ok & ~possible], 0.0)


shapes = st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple)


@FUZZ
@given(data=st.data(), shape=shapes, t=st.sampled_from([1.0, 0.01, 1e-300, 1e6, 0, -1.0, np.inf]),
       masked=st.booleans())
def test_softmax_weights(data, shape, t, masked):
    scores = data.draw(arrays(shape))
    mask = data.draw(arrays(shape[-1:], dtype=np.bool_, special=False)) if masked else None
    w = call(cl.softmax_weights, ["scores", "temperature", "mask"], scores, temperature=t, mask=mask)
    if w is None:  # the only reasons to refuse: complex scores, a temperature that is not > 0
        assert not is_real(scores) or not 0 < t < np.inf
        return
    assert is_real(scores) and tuple(w.shape) == shape
    assert isinstance(w, type(scores)) if not isinstance(scores, np.ndarray) else isinstance(w, np.ndarray)
    allowed = None if mask is None else np.broadcast_to(as_f64(mask) > 0, shape)
    check_weights(w, as_f64(scores), allowed)


@FUZZ
@given(data=st.data(), batch=st.lists(st.integers(0, 2), max_size=2).map(tuple),
       n_q=st.integers(0, 3), n_k=st.integers(0, 3), d=st.integers(0, 4), d_v=st.integers(0, 3),
       kind=st.sampled_from(["dot", "scaled_dot", "cosine", "neg_sq_euclidean", "l2"]))
def test_similarity_and_attend(data, batch, n_q, n_k, d, d_v, kind):
    dtype = data.draw(st.sampled_from(DTYPES))
    q = data.draw(arrays(batch + (n_q, d), dtype))
    k = data.draw(arrays(batch + (n_k, d), dtype))
    v = data.draw(arrays(batch + (n_k, d_v), dtype, low=-1, high=1))
    scores = call(cl.similarity, ["q", "k", "kind"], q, k, kind=kind)
    assert scores is None or is_real(q), "complex input accepted"
    if scores is not None:
        assert tuple(scores.shape) == batch + (n_q, n_k)
        s = as_f64(scores)
        finite_in = np.isfinite(as_f64(q)).all() and np.isfinite(as_f64(k)).all()
        if finite_in:
            assert not np.isnan(s).any(), "NaN scores from finite inputs"
            if kind == "cosine":
                assert np.all(np.abs(s) <= 1 + 1e-2)
            if kind == "neg_sq_euclidean":
                assert np.all(s <= 0) and np.all(np.isfinite(s))
    out = call(cl.attend, ["q", "k", "v", "kind"], q, k, v, kind=kind)
    if out is not None:
        output, weights = out
        assert tuple(output.shape) == batch + (n_q, d_v)
        assert tuple(weights.shape) == batch + (n_q, n_k)
        if np.isfinite(as_f64(q)).all() and np.isfinite(as_f64(k)).all():
            check_weights(weights, np.zeros(tuple(weights.shape)))
            if np.isfinite(as_f64(v)).all():
                assert np.all(np.isfinite(as_f64(output)))


image_shapes = st.one_of(
    st.tuples(st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.sampled_from([1, 2, 3]), st.integers(1, 9), st.integers(1, 9)),    # (C, H, W)
    st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 2, 3, 4])),  # (H, W, C)?
    st.tuples(st.integers(1, 3)), st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3),
                                            st.integers(1, 3)))
FILTER_CALLS = {
    "gaussian_blur": (lambda img, s, r, p: cl.gaussian_blur(img, s), ["image", "sigma"]),
    "bilateral_filter": (lambda img, s, r, p: cl.bilateral_filter(img, s, s, radius=r),
                         ["image", "sigma_spatial", "sigma_color", "radius"]),
    "nl_means": (lambda img, s, r, p: cl.nl_means(img, s, 1, r if r is not None else 2),
                 ["image", "h", "patch_radius", "search_radius"]),
    "gaussian_weights": (lambda img, s, r, p: cl.gaussian_weights(img, p, s), ["image", "pixel", "sigma"]),
    "bilateral_weights": (lambda img, s, r, p: cl.bilateral_weights(img, p, s, s, radius=r),
                          ["image", "pixel", "sigma_spatial", "sigma_color", "radius"]),
    "nl_means_weights": (lambda img, s, r, p: cl.nl_means_weights(img, p, s, 1, r if r is not None else 2),
                         ["image", "pixel", "h", "patch_radius", "search_radius"]),
}


@FUZZ
@given(data=st.data(), shape=image_shapes, name=st.sampled_from(sorted(FILTER_CALLS)),
       strength=st.sampled_from([0.1, 1.0, 1e-200, 300.0, 0.0, -1.0, np.nan]),
       radius=st.sampled_from([None, 0, 1, np.int64(2), 50, -1, 1.5]),
       pixel=st.sampled_from([(0, 0), (1, 2), (np.int64(1), np.int64(0)), (0.5, 1), (99, 0)]))
def test_filters(data, shape, name, strength, radius, pixel):
    dtype = data.draw(st.sampled_from([np.float64, np.float32, np.float16, np.uint8, np.bool_,
                                       np.complex128]))
    image = data.draw(arrays(shape, dtype, low=0.0, high=1.0))
    fn, names = FILTER_CALLS[name]
    out = call(fn, names, image, strength, radius, pixel)
    if out is None:
        return
    assert is_real(image) and np.dtype(dtype) != np.uint8, "complex or integer image accepted"
    img = as_f64(image)
    if name.endswith("_weights"):
        assert tuple(out.shape) == img.shape[-2:]
        w = as_f64(out)
        if np.isfinite(img).all():
            assert np.all(w >= 0) and np.isclose(w.sum(), 1.0, atol=1e-2)
    else:
        assert tuple(out.shape) == img.shape
        o = as_f64(out)
        if np.isfinite(img).all():
            # a weighted average: finite, within the image's range
            assert np.all(np.isfinite(o))
            assert o.min() >= img.min() - 1e-2 and o.max() <= img.max() + 1e-2


@FUZZ
@given(data=st.data(), shape=st.tuples(st.integers(0, 2), st.integers(1, 5), st.integers(1, 5)),
       k=st.sampled_from([1, 3, 2]), c_out=st.integers(1, 2))
def test_conv2d_as_attention(data, shape, k, c_out):
    dtype = data.draw(st.sampled_from(DTYPES))
    x = data.draw(arrays(shape, dtype))
    kernel = data.draw(arrays((c_out, shape[0], k, k), dtype))
    out = call(cl.conv2d_as_attention, ["x", "kernel"], x, kernel)
    if out is None:
        return
    assert tuple(out.shape) == (c_out,) + shape[1:]
    xf, kf = as_f64(x), as_f64(kernel)
    if np.isfinite(xf).all() and np.isfinite(kf).all() and np.abs(xf).max(initial=0) < 1e10 \
            and np.abs(kf).max(initial=0) < 1e10:
        ref = torch.nn.functional.conv2d(torch.from_numpy(xf)[None], torch.from_numpy(kf),
                                         padding=k // 2)[0].numpy()
        assert np.allclose(as_f64(out), ref, rtol=1e-2, atol=1e-2 * (1 + np.abs(ref).max(initial=0)))


@FUZZ
@given(data=st.data(), n=st.sampled_from([0, 1, 3, np.int64(4), 2.0, True, -1]),
       heads=st.sampled_from([0, 1, 2, 3]), n_q=st.integers(0, 3), n_k=st.integers(0, 3))
def test_masks_and_multi_head_attention(data, n, heads, n_q, n_k):
    m = call(causal_mask, ["n"], n)
    if m is not None:
        assert m.dtype == bool and m.shape == (n, n)
    mha = call(cl.MultiHeadAttention, ["embed_dim", "num_heads"], 4, heads)
    if mha is None:
        return
    dtype = data.draw(st.sampled_from(DTYPES))
    query = data.draw(arrays((1, n_q, 4), dtype, special=False))
    key = data.draw(arrays((1, n_k, 4), dtype, special=False))
    with torch.no_grad():
        out = call(mha, ["query", "key", "value"], query, key)
    if out is not None:
        output, weights = out
        assert tuple(output.shape) == (1, n_q, 4) and tuple(weights.shape) == (1, heads, n_q, n_k)
        assert np.all(np.isfinite(as_f64(output)))
