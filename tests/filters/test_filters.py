"""Lesson 04 filters: against brute-force definitions, scikit-image, and their weight-map twins."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.data import images
from course_lib.filters import (
    bilateral_filter,
    bilateral_weights,
    gaussian_blur,
    gaussian_weights,
    nl_means,
    nl_means_as_attention,
    nl_means_weights,
)
from course_lib.filters.windows import streaming_window_average


# --------------------------------------------------------------------------------------------
# Brute-force definitions: one pixel at a time, straight from the formulas in COURSE_DESIGN.md
# --------------------------------------------------------------------------------------------
def brute_force(image, radius, log_weight):
    """Average in-image neighbours q of every p with weights exp(log_weight(p, q)), normalised."""
    img = image[None] if image.ndim == 2 else image
    _, h, w = img.shape
    out = np.zeros_like(img)
    for i in range(h):
        for j in range(w):
            num, den = np.zeros(img.shape[0]), 0.0
            for y in range(max(0, i - radius), min(h, i + radius + 1)):
                for x in range(max(0, j - radius), min(w, j + radius + 1)):
                    wt = math.exp(log_weight((i, j), (y, x)))
                    num += wt * img[:, y, x]
                    den += wt
            out[:, i, j] = num / den
    return out[0] if image.ndim == 2 else out


def gaussian_brute(image, sigma):
    return brute_force(image, math.ceil(3 * sigma),
                       lambda p, q: -((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) / (2 * sigma**2))


def bilateral_brute(image, s_sp, s_c, radius):
    img = image[None] if image.ndim == 2 else image

    def log_w(p, q):
        spatial = ((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) / (2 * s_sp**2)
        colour = np.sum((img[:, p[0], p[1]] - img[:, q[0], q[1]]) ** 2) / (2 * s_c**2)
        return -spatial - colour

    return brute_force(image, radius, log_w)


def nl_means_brute(image, h, pr, sr):
    img = image[None] if image.ndim == 2 else image
    pad = np.pad(img, ((0, 0), (pr, pr), (pr, pr)), mode="reflect")  # patches complete by mirror

    def patch(p):
        return pad[:, p[0] : p[0] + 2 * pr + 1, p[1] : p[1] + 2 * pr + 1]

    return brute_force(image, sr, lambda p, q: -np.mean((patch(p) - patch(q)) ** 2) / h**2)


@pytest.fixture(scope="module")
def small_gray():
    return np.random.default_rng(0).random((7, 9))


@pytest.fixture(scope="module")
def small_colour():
    return np.random.default_rng(1).random((3, 6, 8))


@pytest.fixture(scope="module")
def noisy_photo():
    clean = images.load_photo("camera", size=96, gray=True)
    return clean, images.add_noise(clean, 0.1, seed=0)


# --------------------------------------------------------------------------------------------
# 1. The filters match their definitions, at every pixel (borders included)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.3])
def test_gaussian_blur_matches_brute_force(small_gray, small_colour, sigma):
    np.testing.assert_allclose(gaussian_blur(small_gray, sigma), gaussian_brute(small_gray, sigma),
                               atol=1e-12)
    np.testing.assert_allclose(gaussian_blur(small_colour, sigma),
                               gaussian_brute(small_colour, sigma), atol=1e-12)


@pytest.mark.parametrize("s_sp,s_c,radius", [(1.0, 0.2, None), (2.0, 0.05, 2), (0.7, 1.0, 1)])
def test_bilateral_matches_brute_force(small_gray, small_colour, s_sp, s_c, radius):
    r = math.ceil(3 * s_sp) if radius is None else radius
    for img in (small_gray, small_colour):
        np.testing.assert_allclose(bilateral_filter(img, s_sp, s_c, radius=radius),
                                   bilateral_brute(img, s_sp, s_c, r), atol=1e-12)


@pytest.mark.parametrize("h,pr,sr", [(0.3, 1, 2), (0.1, 1, 3), (1.0, 0, 2), (0.5, 2, 1)])
def test_nl_means_matches_brute_force(small_gray, small_colour, h, pr, sr):
    for img in (small_gray, small_colour):
        expected = nl_means_brute(img, h, pr, sr)
        np.testing.assert_allclose(nl_means(img, h, pr, sr), expected, atol=1e-12)
        np.testing.assert_allclose(nl_means_as_attention(img, h, pr, sr), expected, atol=1e-12)


# --------------------------------------------------------------------------------------------
# 2. The weight-map twins: filter(image)[row, col] == (map * image).sum(), borders included
# --------------------------------------------------------------------------------------------
PIXELS = [(0, 0), (0, 5), (3, 4), (6, 8), (5, 1), (2, 7)]  # corners, edges and interior of 7x9

TWINS = [
    (gaussian_blur, gaussian_weights, (1.2,), 4),
    (bilateral_filter, bilateral_weights, (1.5, 0.3), 5),
    (nl_means, nl_means_weights, (0.4, 1, 3), 3),
]


@pytest.mark.parametrize("filt,twin,args,radius", TWINS)
@pytest.mark.parametrize("pixel", PIXELS)
def test_weight_map_reproduces_filter_output(small_gray, small_colour, filt, twin, args, radius,
                                             pixel):
    out = filt(small_gray, *args)
    wmap = twin(small_gray, pixel, *args)
    assert wmap.shape == small_gray.shape
    assert np.all(wmap >= 0)
    assert wmap.sum() == pytest.approx(1.0, abs=1e-12)
    assert (wmap * small_gray).sum() == pytest.approx(out[pixel], abs=1e-12)
    # zero outside the window
    row, col = pixel
    ys, xs = np.nonzero(wmap)
    assert np.all(np.abs(ys - row) <= radius) and np.all(np.abs(xs - col) <= radius)
    # colour: one map for all channels
    out_c = filt(small_colour[:, :7, :8], *args)
    wmap_c = twin(small_colour[:, :7, :8], (min(row, 5), min(col, 7)), *args)
    np.testing.assert_allclose((wmap_c * small_colour[:, :7, :8]).sum(axis=(1, 2)),
                               out_c[:, min(row, 5), min(col, 7)], atol=1e-12)


def test_nl_means_weights_are_a_softmax_of_negative_patch_distance(small_gray):
    """The NL-means weight map IS attention: softmax over the window of -d2 / h^2."""
    h, pr, sr, (row, col) = 0.3, 1, 2, (3, 4)
    pad = np.pad(small_gray, pr, mode="reflect")
    query = pad[row : row + 3, col : col + 3]
    scores = np.array([[-np.mean((query - pad[row + dy : row + dy + 3, col + dx : col + dx + 3])
                                 ** 2) / h**2 for dx in range(-sr, sr + 1)]
                       for dy in range(-sr, sr + 1)])
    softmax = np.exp(scores - scores.max())
    softmax /= softmax.sum()
    wmap = nl_means_weights(small_gray, (row, col), h, pr, sr)
    np.testing.assert_allclose(wmap[row - sr : row + sr + 1, col - sr : col + sr + 1], softmax,
                               atol=1e-12)


def test_gaussian_weights_do_not_depend_on_the_image(small_gray):
    a = gaussian_weights(small_gray, (3, 4), 1.0)
    b = gaussian_weights(np.random.default_rng(5).random(small_gray.shape), (3, 4), 1.0)
    np.testing.assert_array_equal(a, b)
    c = bilateral_weights(small_gray, (3, 4), 1.0, 0.1)
    d = bilateral_weights(np.random.default_rng(5).random(small_gray.shape), (3, 4), 1.0, 0.1)
    assert np.abs(c - d).max() > 1e-3  # adaptive: a different image gives different weights


# --------------------------------------------------------------------------------------------
# 3. Independent references: scikit-image (and scipy's Gaussian)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_gaussian_blur_matches_skimage_in_the_interior(noisy_photo, sigma):
    from skimage.filters import gaussian

    _, noisy = noisy_photo
    r = math.ceil(3 * sigma)
    ours = gaussian_blur(noisy, sigma)
    ref = gaussian(noisy, sigma=sigma, truncate=3.0, mode="reflect", preserve_range=True)
    np.testing.assert_allclose(ours[r:-r, r:-r], ref[r:-r, r:-r], atol=1e-10)


def test_bilateral_matches_skimage_colour_term_with_flat_spatial_weights(noisy_photo):
    """With a flat spatial term skimage's denoise_bilateral uses exactly our colour weights."""
    from skimage.restoration import denoise_bilateral

    _, noisy = noisy_photo
    ours = bilateral_filter(noisy, 1e4, 0.1, radius=3)
    ref = denoise_bilateral(noisy, win_size=7, sigma_color=0.1, sigma_spatial=1e4)
    # skimage reads the colour Gaussian from a 10,000-bin table: agreement to ~1e-4
    np.testing.assert_allclose(ours[3:-3, 3:-3], ref[3:-3, 3:-3], atol=5e-4)


def test_bilateral_matches_skimage_given_its_spatial_table(noisy_photo):
    """scikit-image 0.26 builds its spatial table on a (w+1) x (w+1) grid but reads it with stride w,
    so its spatial weights are not exp(-|p-q|^2 / 2 s^2). With that table our machinery matches it."""
    from skimage.restoration import denoise_bilateral

    _, noisy = noisy_photo
    ws, s_sp, s_c = 5, 1.5, 0.1
    r = ws // 2
    grid = np.arange(-ws // 2, ws // 2 + 1)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    table = np.exp(-0.5 * (yy**2 + xx**2) / s_sp**2).ravel()
    img = torch.from_numpy(noisy)[None]

    def scores(dy, dx, shifted):
        return math.log(table[(dy + r) * ws + (dx + r)]) - ((shifted - img) ** 2).sum(0) / (
            2 * s_c**2)

    emulated = streaming_window_average(img, r, scores)[0].numpy()
    ref = denoise_bilateral(noisy, win_size=ws, sigma_color=s_c, sigma_spatial=s_sp)
    np.testing.assert_allclose(emulated[r:-r, r:-r], ref[r:-r, r:-r], atol=5e-4)
    # ... and the true Gaussian (ours) differs from that table by a visible amount
    assert np.abs(bilateral_filter(noisy, s_sp, s_c, radius=r) - ref)[r:-r, r:-r].max() > 1e-2


def test_nl_means_machinery_reproduces_skimage_fast_mode(noisy_photo):
    """skimage's fast NL-means (0.26): distance = sum of squared differences over a 2x2 block
    anchored at the pixel, divided by s^2 h^2; weights below exp(-5) are dropped. Rebuilding that
    from our streaming softmax matches it, so the only differences are those documented ones."""
    from skimage.restoration import denoise_nl_means

    _, noisy = noisy_photo
    h, s, d = 0.1, 3, 5
    img = torch.from_numpy(noisy)[None]
    big = torch.nn.functional.pad(torch.from_numpy(np.pad(noisy, d + 2, mode="reflect")), (0,) * 4)
    o = d + 2
    height, width = noisy.shape

    def block(ty, tx, anchor_y, anchor_x):
        # sum over rows anchor..anchor+1, cols anchor..anchor+1 of (I(u) - I(u + t))^2
        total = 0
        for a in (0, 1):
            for b in (0, 1):
                ys, xs = o + anchor_y + a, o + anchor_x + b
                u = big[ys : ys + height, xs : xs + width]
                v = big[ys + ty : ys + ty + height, xs + tx : xs + tx + width]
                total = total + (u - v) ** 2
        return total

    def scores(dy, dx, shifted):
        if dx > 0 or (dx == 0 and dy >= 0):
            dist = block(dy, dx, 0, 0)
        else:  # skimage computes this pair from the neighbour's side (anchored at q)
            dist = block(-dy, -dx, dy, dx)
        dist = dist / (s * s * h * h)
        return torch.where(dist > 5, torch.tensor(-torch.inf, dtype=dist.dtype), -dist)

    emulated = streaming_window_average(img, d, scores)[0].numpy()
    ref = denoise_nl_means(noisy, patch_size=s, patch_distance=d, h=h, fast_mode=True)
    m = d + 2
    # skimage uses an approximate exp (Schraudolph), hence the tolerance
    np.testing.assert_allclose(emulated[m:-m, m:-m], ref[m:-m, m:-m], atol=1e-2)
    assert np.abs(emulated - ref)[m:-m, m:-m].mean() < 1e-3


def test_nl_means_psnr_is_comparable_to_skimage(noisy_photo):
    """At matched patch and window sizes, each method at its best h on a grid: same PSNR class."""
    from skimage.restoration import denoise_nl_means

    clean, noisy = noisy_photo
    grid = [0.06, 0.08, 0.1, 0.12, 0.14, 0.16]
    ours = max(images.psnr(clean, nl_means(noisy, h, 1, 5)) for h in grid)
    ref = max(images.psnr(clean, denoise_nl_means(noisy, patch_size=3, patch_distance=5, h=h,
                                                  fast_mode=True)) for h in grid)
    noisy_psnr = images.psnr(clean, noisy)
    assert ours > noisy_psnr + 3  # it denoises
    assert ours > ref - 0.5       # and is not worse than the compiled reference


# --------------------------------------------------------------------------------------------
# 4. Properties
# --------------------------------------------------------------------------------------------
images_2d = st.integers(3, 8).flatmap(
    lambda h: st.integers(3, 8).map(lambda w: (h, w)))


@settings(max_examples=25, deadline=None)
@given(shape=images_2d, value=st.floats(0, 1), sigma=st.floats(0.3, 2.0),
       s_c=st.floats(0.01, 1.0), h=st.floats(0.01, 1.0))
def test_constant_image_is_a_fixed_point(shape, value, sigma, s_c, h):
    img = np.full(shape, value)
    for out in (gaussian_blur(img, sigma), bilateral_filter(img, sigma, s_c),
                nl_means(img, h, 1, 2)):
        np.testing.assert_allclose(out, value, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), sigma=st.floats(0.3, 2.0), s_c=st.floats(0.01, 1.0),
       h=st.floats(0.01, 1.0))
def test_output_is_a_convex_combination(seed, sigma, s_c, h):
    img = np.random.default_rng(seed).random((6, 7))
    for out in (gaussian_blur(img, sigma), bilateral_filter(img, sigma, s_c),
                nl_means(img, h, 1, 2)):
        assert out.min() >= img.min() - 1e-12 and out.max() <= img.max() + 1e-12
        assert np.all(np.isfinite(out))


def test_tiny_h_and_sigma_color_keep_the_image():
    img = np.random.default_rng(3).random((6, 6))
    np.testing.assert_allclose(nl_means(img, 1e-4, 1, 2), img, atol=1e-9)
    np.testing.assert_allclose(bilateral_filter(img, 1.0, 1e-4), img, atol=1e-9)


def test_numpy_in_numpy_out_torch_in_torch_out(small_gray):
    for f, args in ((gaussian_blur, (1.0,)), (bilateral_filter, (1.0, 0.1)), (nl_means, (0.1,))):
        out = f(small_gray, *args)
        assert isinstance(out, np.ndarray) and out.shape == small_gray.shape
        t = torch.tensor(small_gray, dtype=torch.float32)
        out_t = f(t, *args)
        assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float32
        np.testing.assert_allclose(out_t.numpy(), out, atol=1e-5)
    wmap = nl_means_weights(torch.tensor(small_gray), (1, 1), 0.1)
    assert isinstance(wmap, torch.Tensor)


# --------------------------------------------------------------------------------------------
# 5. Errors that teach
# --------------------------------------------------------------------------------------------
def test_bad_inputs_raise_helpful_errors(small_gray):
    with pytest.raises(ValueError, match=r"image must have shape \(H, W\).*\(5,\)"):
        gaussian_blur(np.zeros(5), 1.0)
    with pytest.raises(ValueError, match="channel-last"):
        nl_means(np.zeros((16, 16, 3)), 0.1)
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
        gaussian_blur(small_gray, -1.0)
    with pytest.raises(ValueError, match="sigma_color"):
        bilateral_filter(small_gray, 1.0, 0.0)
    with pytest.raises(TypeError, match="search_radius must be an integer >= 0"):
        nl_means(small_gray, 0.1, search_radius=2.5)
    with pytest.raises(ValueError, match=r"pixel=\(7, 0\) lies outside the image of height 7"):
        gaussian_weights(small_gray, (7, 0), 1.0)
    with pytest.raises(TypeError, match="pair"):
        nl_means_weights(small_gray, 3, 0.1)
    with pytest.raises(ValueError, match="patch_radius=7 is too large"):
        nl_means(small_gray, 0.1, patch_radius=7)


def test_gradients_flow_through_the_filters():
    """Torch in -> torch out, differentiable: the filters can sit inside a trained model."""
    img = torch.rand(5, 6, dtype=torch.float64, requires_grad=True)
    for f, args in ((gaussian_blur, (0.8,)), (bilateral_filter, (1.0, 0.3)), (nl_means, (0.3, 1, 2))):
        assert torch.autograd.gradcheck(lambda x: f(x, *args), (img,))
