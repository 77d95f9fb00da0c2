"""The same glibc allocator settings for both libraries a benchmark compares.

glibc hands freed blocks of 128 KiB and more back to the system (its mmap and trim thresholds),
so a library that allocates its outputs and buffers afresh pays a page fault per 4 KiB at every
call, and one that keeps its scratch does not. Raising both thresholds removes that difference.
glibc reads them once, when the process starts: a script calls ``same_allocator()`` before
anything else and is re-executed with them set. Of the settings tried, these gave PyTorch its
best times (its float64 ResNet-style layer: 39 ms, against 66 ms with a 32 MiB mmap threshold
and 40-74 ms with glibc's defaults); convlab's barely move.
"""

import os
import sys

SETTINGS = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def same_allocator(glibc_defaults=False):
    """Re-execute this script with ``SETTINGS`` unless they are set (or ``glibc_defaults``)."""
    if not glibc_defaults and any(name not in os.environ for name in SETTINGS):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**SETTINGS, **os.environ})


def described():
    """The settings this process runs under, as one line."""
    return ", ".join(f"{name}={os.environ.get(name, '(glibc default)')}" for name in SETTINGS)
