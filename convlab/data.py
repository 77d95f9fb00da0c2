"""Sample data for the course: images that ship with matplotlib, classic kernels, 8x8 digits.

Nothing is downloaded: the photographs are matplotlib's bundled sample data, ``"shapes"`` is
drawn by code, and the digits are scikit-learn's bundled copy (optional dependency).

``KERNELS`` holds the classic 3x3 kernels as read-only float arrays, applied as ``conv2d`` applies
them (cross-correlation, no flip): ``sobel_x`` is positive where the image gets brighter to the
right, ``sobel_y`` where it gets brighter downwards.
"""

import numpy as np

from . import _validate as v

__all__ = ["IMAGES", "KERNELS", "digits", "gabor_kernel", "sample_image"]


def _read_sample(name):
    from matplotlib import cbook

    return cbook.get_sample_data(name, asfileobj=True)


def _grace_hopper():
    import matplotlib.image as mpimg

    with _read_sample("grace_hopper.jpg") as f:
        rgb = mpimg.imread(f, format="jpg").astype(np.float64) / 255.0
    # ITU-R BT.601 luma, the weights of PIL's "L" mode
    return rgb[..., :3] @ np.array([0.299, 0.587, 0.114])


def _mri():
    # A 256x256 MRI slice of a head, big-endian uint16, as in matplotlib's own examples
    # (get_sample_data opens the .gz already decompressed).
    with _read_sample("s1045.ima.gz") as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=">u2").reshape(256, 256).astype(np.float64)


def _terrain():
    with _read_sample("jacksboro_fault_dem.npz") as dem:  # opened with np.load already
        return dem["elevation"].astype(np.float64)


def _shapes(size=128):
    """A square, a disc, a triangle and a stripe on a dark background: edges in every direction."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    img = np.full((size, size), 0.1)
    img[(0.12 < yy) & (yy < 0.42) & (0.1 < xx) & (xx < 0.4)] = 0.9
    img[(yy - 0.28) ** 2 + (xx - 0.72) ** 2 < 0.16 ** 2] = 0.6
    img[(yy > 0.55) & (yy < 0.9) & (np.abs(xx - 0.28) < (yy - 0.55) * 0.6)] = 1.0
    img[(yy > 0.55) & (yy < 0.9) & (np.abs(xx + yy - 1.45) < 0.06)] = 0.75
    return img


IMAGES = {
    "grace_hopper": _grace_hopper,
    "mri": _mri,
    "terrain": _terrain,
    "shapes": _shapes,
}


def _resize(img, size):
    from PIL import Image

    h, w = size
    # PIL's "F" mode keeps float precision; its resize widens the filter when shrinking (no
    # aliasing, which would add the very stripes the edge kernels are meant to find)
    resized = Image.fromarray(img.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR)
    return np.asarray(resized, dtype=np.float64)


def sample_image(name="grace_hopper", size=None):
    """A grayscale image with values in [0, 1], from data that ships with matplotlib or from code.

    Parameters
    ----------
    name : one of ``IMAGES``: ``"grace_hopper"`` (photograph, 600x512), ``"mri"`` (a head slice,
        256x256), ``"terrain"`` (an elevation map, 344x403), ``"shapes"`` (drawn by code, 128x128)
    size : None, an int (square) or ``(H, W)``: resize to that many pixels

    Returns
    -------
    array ``(H, W)``, float64, minimum 0 and maximum 1 (before resizing).
    """
    fn = "sample_image"
    if name not in IMAGES:
        raise ValueError(f"{fn}: unknown image {name!r}; choose one of {sorted(IMAGES)}")
    img = IMAGES[name]()
    img = (img - img.min()) / (img.max() - img.min())
    if size is not None:
        img = np.clip(_resize(img, v.int_tuple(fn, "size", size, 2, 1)), 0.0, 1.0)
    return img


def _kernel(rows):
    k = np.array(rows, dtype=np.float64)
    k.setflags(write=False)  # shared by every notebook: nobody may change the course's Sobel
    return k


KERNELS = {
    "identity": _kernel([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_blur": _kernel(np.full((3, 3), 1 / 9)),
    "gaussian_blur": _kernel(np.outer([1, 2, 1], [1, 2, 1]) / 16),
    "sharpen": _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "laplacian": _kernel([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "edge": _kernel([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "sobel_x": _kernel([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _kernel([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "prewitt_x": _kernel([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
    "prewitt_y": _kernel([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
    "emboss": _kernel([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}


def gabor_kernel(size, theta, sigma, wavelength, gamma=1.0, phase=0.0):
    """A real Gabor kernel: a cosine wave under a Gaussian, shifted to zero mean.

    ``g(y, x) = exp(-(u^2 + gamma^2 t^2) / (2 sigma^2)) * cos(2 pi u / wavelength + phase)``
    with ``u = x cos(theta) + y sin(theta)``, ``t = -x sin(theta) + y cos(theta)`` measured from
    the centre. The mean is subtracted so that a flat region gives 0, as for an edge detector.

    Parameters
    ----------
    size : int >= 1, the kernel is ``(size, size)``
    theta : float, direction of the wave in radians (0: the wave varies along x, so the kernel
        responds to vertical stripes)
    sigma : float > 0, width of the Gaussian in pixels
    wavelength : float > 0, period of the cosine in pixels
    gamma : float > 0, aspect ratio of the Gaussian
    phase : float, phase of the cosine in radians

    Returns
    -------
    array ``(size, size)``, float64, summing to 0.
    """
    fn = "gabor_kernel"
    size = v.int_value(fn, "size", size, 1)
    for name, value in (("sigma", sigma), ("wavelength", wavelength), ("gamma", gamma)):
        if not value > 0:
            raise ValueError(f"{fn}: {name} must be > 0, got {value!r}")
    half = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size] - half
    u = x * np.cos(theta) + y * np.sin(theta)
    t = -x * np.sin(theta) + y * np.cos(theta)
    g = np.exp(-(u ** 2 + gamma ** 2 * t ** 2) / (2 * sigma ** 2)) * np.cos(
        2 * np.pi * u / wavelength + phase)
    return g - g.mean()


def digits():
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, no download).

    Returns
    -------
    images : array ``(1797, 1, 8, 8)``, float64 in [0, 1] (the original 0..16 scaled by 1/16)
    labels : array ``(1797,)``, int64, the digit 0..9
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            "digits: the 8x8 digits ship with scikit-learn, which is not installed; "
            "install it with `pip install scikit-learn` (or `pip install -e .[dev]`)"
        ) from err
    data = load_digits()
    images = data.images.astype(np.float64)[:, None] / 16.0
    return images, data.target.astype(np.int64)
