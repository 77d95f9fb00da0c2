"""Sample data: bundled images in [0, 1], the classic kernels, Gabor kernels, the 8x8 digits."""

import sys

import numpy as np
import pytest

import convlab as cl
from convlab.data import IMAGES, KERNELS, digits, gabor_kernel, sample_image


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_sample_images_are_grey_and_span_0_to_1(name):
    image = sample_image(name)
    assert image.ndim == 2 and image.dtype == np.float64
    assert image.min() == 0.0 and image.max() == 1.0
    assert np.array_equal(image, sample_image(name)), "the same picture every time"


def test_sample_image_sizes_and_errors():
    assert sample_image("grace_hopper").shape == (600, 512)
    assert sample_image(size=64).shape == (64, 64)
    small = sample_image("shapes", (32, 48))
    assert small.shape == (32, 48) and 0.0 <= small.min() and small.max() <= 1.0
    with pytest.raises(ValueError, match="unknown image 'lena'"):
        sample_image("lena")


def test_kernels_are_the_classic_ones_and_read_only():
    assert set(KERNELS) == {"identity", "box_blur", "gaussian_blur", "sharpen", "laplacian",
                            "edge", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "emboss"}
    for name in ("identity", "box_blur", "gaussian_blur", "sharpen"):
        assert KERNELS[name].sum() == pytest.approx(1.0)  # keep the brightness
    for name in ("laplacian", "edge", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y"):
        assert KERNELS[name].sum() == 0.0  # 0 on flat regions
    # the Sobel kernel is separable: [1, 2, 1]^T times [-1, 0, 1] (chapter 08)
    assert np.array_equal(KERNELS["sobel_x"], np.outer([1, 2, 1], [-1, 0, 1]))
    assert np.array_equal(KERNELS["sobel_y"], KERNELS["sobel_x"].T)
    with pytest.raises(ValueError):
        KERNELS["sobel_x"][0, 0] = 5


def test_sobel_x_is_positive_where_the_image_brightens_to_the_right():
    ramp = np.tile(np.arange(6.0), (5, 1))
    response = cl.conv2d(ramp[None, None], KERNELS["sobel_x"][None, None])[0, 0]
    assert np.allclose(response, 8.0)
    assert np.allclose(cl.conv2d(ramp[None, None], KERNELS["sobel_y"][None, None]), 0.0)


def test_gabor_kernel_shape_symmetry_and_orientation():
    g = gabor_kernel(9, 0.0, 2.0, 4.0)
    assert g.shape == (9, 9) and abs(g.sum()) < 1e-12
    assert np.allclose(g, g[:, ::-1]) and np.allclose(g, g[::-1])
    assert np.allclose(gabor_kernel(9, np.pi / 2, 2.0, 4.0), g.T)
    # stripes that vary along x with the kernel's wavelength excite theta=0, not theta=pi/2
    stripes = np.cos(2 * np.pi * np.arange(32) / 4.0)[None, :].repeat(32, axis=0)
    energy = [np.abs(cl.conv2d(stripes[None, None], gabor_kernel(9, t, 2.0, 4.0)[None, None])).sum()
              for t in (0.0, np.pi / 2)]
    assert energy[0] > 20 * energy[1]
    with pytest.raises(ValueError, match="sigma must be > 0"):
        gabor_kernel(5, 0, 0, 4)


def test_digits_are_8x8_images_in_0_1():
    pytest.importorskip("sklearn")
    images, labels = digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float64
    assert images.min() == 0.0 and images.max() == 1.0
    assert labels.shape == (1797,) and set(labels.tolist()) == set(range(10))


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        digits()
