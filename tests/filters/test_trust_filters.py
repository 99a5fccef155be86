"""Issue 11: the lesson-04 filters refuse images they would misread, and give limits, not NaN."""
import time

import numpy as np
import pytest
import torch

import course_lib as cl

RNG = np.random.default_rng(0)
GRAY = RNG.random((12, 14))
PIXEL = (5, 6)

FILTERS = {
    "gaussian_blur": lambda img: cl.gaussian_blur(img, 1.0),
    "bilateral_filter": lambda img: cl.bilateral_filter(img, 1.0, 0.1),
    "nl_means": lambda img: cl.nl_means(img, 0.1, 1, 2),
    "nl_means_as_attention": lambda img: cl.filters.nl_means_as_attention(img, 0.1, 1, 2),
    "gaussian_weights": lambda img: cl.gaussian_weights(img, (1, 1), 1.0),
    "bilateral_weights": lambda img: cl.bilateral_weights(img, (1, 1), 1.0, 0.1),
    "nl_means_weights": lambda img: cl.nl_means_weights(img, (1, 1), 0.1, 1, 2),
}


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("image", [(RNG.random((8, 9)) * 255).astype(np.uint8),
                                   torch.randint(0, 255, (3, 8, 9), dtype=torch.uint8)],
                         ids=["numpy-uint8", "torch-uint8"])
def test_integer_images_are_refused_with_the_conversion(name, image):
    with pytest.raises(TypeError) as info:
        FILTERS[name](image)
    message = str(info.value)
    for word in ("image", "uint8", "[0, 1]", "img_as_float"):
        assert word in message, message


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("shape", [(32, 32, 1), (32, 32, 2), (32, 32, 3), (4, 5, 3), (9, 9, 4)])
def test_channel_last_images_are_refused_with_the_layout_and_the_fix(name, shape):
    with pytest.raises(ValueError) as info:
        FILTERS[name](RNG.random(shape))
    message = str(info.value)
    for word in ("image", str(shape), "(C, H, W)", "np.moveaxis"):
        assert word in message, message


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 4, 4), (1, 0, 3)])
def test_empty_images_get_a_clear_error(shape):
    with pytest.raises(ValueError) as info:
        cl.gaussian_blur(np.zeros(shape), 1.0)
    assert "image" in str(info.value) and str(shape) in str(info.value)


def test_huge_windows_are_clipped_to_the_image():
    start = time.perf_counter()
    blurred = cl.gaussian_blur(GRAY, 300.0)
    smoothed = cl.bilateral_filter(GRAY, 300.0, 1e6)
    denoised = cl.nl_means(GRAY, 1e6, 1, 1000)
    elapsed = time.perf_counter() - start
    # a sigma far beyond the image: (almost) the plain mean everywhere
    assert np.allclose(blurred, GRAY.mean(), atol=1e-3)
    assert np.allclose(smoothed, GRAY.mean(), atol=1e-3)
    assert np.allclose(denoised, GRAY.mean(), atol=1e-3)
    w = cl.gaussian_weights(GRAY, PIXEL, 300.0)
    assert w.shape == GRAY.shape and np.isclose(w.sum(), 1.0)
    assert elapsed < 60, "clipping failed: the windows were not clipped"  # minutes before the fix


@pytest.mark.parametrize("tiny", [1e-200, 1e-320])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiny_strengths_give_the_limit_not_nan(tiny, dtype):
    img = GRAY.astype(dtype)
    assert np.array_equal(cl.gaussian_blur(img, tiny), img)
    assert np.array_equal(cl.bilateral_filter(img, tiny, 0.1), img)
    assert np.array_equal(cl.bilateral_filter(img, 1.0, tiny), img)   # no other pixel looks alike
    assert np.array_equal(cl.nl_means(img, tiny), img)
    assert np.array_equal(cl.filters.nl_means_as_attention(img, tiny), img)
    for weights in (cl.gaussian_weights(img, PIXEL, tiny), cl.nl_means_weights(img, PIXEL, tiny),
                    cl.bilateral_weights(img, PIXEL, 1.0, tiny)):
        expected = np.zeros_like(img)
        expected[PIXEL] = 1.0
        assert np.array_equal(weights, expected)


def test_numpy_integer_radii_are_accepted():
    r = np.int64(2)
    assert np.allclose(cl.bilateral_filter(GRAY, 1.0, 0.1, radius=r),
                       cl.bilateral_filter(GRAY, 1.0, 0.1, radius=2))
    assert np.allclose(cl.nl_means(GRAY, 0.1, np.int32(1), r), cl.nl_means(GRAY, 0.1, 1, 2))
    assert np.allclose(cl.gaussian_weights(GRAY, (np.int64(3), np.int64(4)), 1.0),
                       cl.gaussian_weights(GRAY, (3, 4), 1.0))


@pytest.mark.parametrize("bad", [(2.7, 3), (2.0, 3), ("2", 3)])
def test_a_float_pixel_position_is_refused(bad):
    with pytest.raises(TypeError) as info:
        cl.gaussian_weights(GRAY, bad, 1.0)
    assert "pixel" in str(info.value) and "integers" in str(info.value)


def test_bool_images_and_float16_work():
    mask_image = GRAY > 0.5
    assert np.allclose(cl.gaussian_blur(mask_image, 1.0), cl.gaussian_blur(mask_image * 1.0, 1.0))
    half = torch.from_numpy(GRAY).half()
    assert torch.isfinite(cl.nl_means(half.float(), 0.1)).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_images_come_back_in_their_dtype(dtype):
    img = torch.from_numpy(GRAY).to(dtype)
    for name, call in FILTERS.items():
        out = call(img)
        assert out.dtype == dtype and torch.isfinite(out.float()).all(), name
        assert torch.allclose(out.float(), call(img.float()), atol=1e-2), name


def test_filter_matrices_follow_the_same_image_rules():
    from course_lib.filters import matrices as fm

    with pytest.raises(TypeError, match="img_as_float"):
        fm.nl_means_matrix((GRAY * 255).astype(np.uint8), 0.1)
    with pytest.raises(ValueError, match=r"grayscale image of shape \(H, W\)"):
        fm.nl_means_matrix(RNG.random((3, 6, 6)), 0.1)
