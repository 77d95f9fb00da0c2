"""Shared test setup: pictures render off-screen."""

import matplotlib

matplotlib.use("Agg")
