"""Reach measured by gradients: receptive fields, their effective size, one attention layer."""
import numpy as np
import pytest

from course_lib.locality import reach
from course_lib.filters.matrices import nl_means_at, nl_means_matrix


@pytest.mark.parametrize("layers,k", [(1, 3), (2, 3), (4, 3), (3, 5), (2, 7)])
def test_gradient_field_of_a_conv_stack_has_the_formula_width(layers, k):
    size = 2 * layers * k + 5
    centre = (size // 2, size // 2)
    stack = reach.conv_stack(layers, k)
    grad = reach.influence(lambda x: stack(x)[centre], np.zeros((size, size)))
    width = reach.receptive_field_size(layers, k)
    assert reach.field_width(grad, centre) == width
    assert np.count_nonzero(grad) == width**2


@pytest.mark.parametrize("layers", [1, 2, 5, 9])
def test_effective_field_of_averaging_convs_grows_like_sqrt_layers(layers):
    """Luo et al. (2016): L averaging 3x3 layers give a bell with variance 2L/3 (exact)."""
    size = 4 * layers + 5
    centre = (size // 2, size // 2)
    stack = reach.conv_stack(layers)
    grad = reach.influence(lambda x: stack(x)[centre], np.ones((size, size)))
    assert reach.influence_spread(grad, centre) == pytest.approx(np.sqrt(2 * layers / 3))


def test_radius_holding():
    m = np.zeros((7, 7))
    m[3, 3], m[3, 5], m[0, 0] = 8.0, 1.0, 1.0
    assert reach.radius_holding(m, (3, 3), 0.8) == 0
    assert reach.radius_holding(m, (3, 3), 0.9) == 2
    assert reach.radius_holding(m, (3, 3), 1.0) == 3


def test_layers_to_connect():
    assert reach.layers_to_connect(1) == 1
    assert reach.layers_to_connect(10) == 10
    assert reach.layers_to_connect(10, kernel_size=5) == 5


def test_one_attention_layer_reaches_every_pixel():
    rng = np.random.default_rng(0)
    image = rng.random((9, 9))
    grad = reach.influence(lambda x: nl_means_matrix(x, 0.3)[0][4, 4], image)
    assert np.all(grad > 0)
    np.testing.assert_allclose(reach.influence(lambda x: nl_means_at(x, (4, 4), 0.3), image), grad,
                               atol=1e-12)
    windowed = reach.influence(lambda x: nl_means_at(x, (4, 4), 0.3, search_radius=1), image)
    # a 3x3 search window with 3x3 patches: inputs within 2 pixels can matter, no others
    assert reach.field_width(windowed, (4, 4)) == 5
