"""Lesson 04's image filters, from fixed local weights to adaptive non-local ones.

    local.py              ``gaussian_blur`` (fixed, local) and ``bilateral_filter`` (adaptive, local)
    nonlocal_means.py     ``nl_means`` (adaptive, non-local) and ``nl_means_as_attention``
    windows.py            the window plumbing all three share: neighbours, the streaming softmax average
    image_args.py         their argument checks: images, radii, pixels, widths
    matrices.py           the filters written as attention matrices, one row per query pixel
    skimage_reference.py  scikit-image 0.26's two adaptive filters rebuilt step by step, to compare with

Every filter has a twin ``*_weights(image, (row, col), ...)``: the map of weights one pixel uses.
"""
from course_lib.filters.local import (bilateral_filter, bilateral_weights, gaussian_blur, gaussian_radius,
                                      gaussian_weights)
from course_lib.filters.nonlocal_means import nl_means, nl_means_as_attention, nl_means_weights

__all__ = ["bilateral_filter", "bilateral_weights", "gaussian_blur", "gaussian_radius", "gaussian_weights",
           "nl_means", "nl_means_as_attention", "nl_means_weights"]
