"""How long each explorer takes to answer a slider move (the budget: 100 ms median).

Each case moves one control back and forth between two values at the explorer's default sizes;
setting a control's value runs the explorer's update callback synchronously (redraw, SVG), as a
message from the browser would. Median and maximum wall time of 20 moves, after one warm-up
move, and the median CPU time of this process (the machine may be shared: the CPU time says
what the callback itself costs).

    python benchmarks/bench_widgets.py
"""

import statistics
import time

import numpy as np

from convlab.viz.widgets import (
    conv_explorer,
    filter_playground,
    receptive_field_explorer,
    step_through,
)

BUDGET_MS = 100
REPEATS = 20

# the course's worked example (chapter 02): 5x5 input, 3x3 kernel
X = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]])
W = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])


def _cases():
    """(name, explorer, control, two values to move between)."""
    conv = conv_explorer()
    transposed = conv_explorer(input_size=2, transposed=True)
    playground = filter_playground()
    steps = step_through(X, W, bias=1)
    fields = receptive_field_explorer()
    return [
        ("conv_explorer: stride 1 <-> 2", conv, conv.sliders["stride"], (2, 1)),
        ("conv_explorer: input size 5 <-> 6", conv, conv.sliders["input_size"], (6, 5)),
        ("conv_explorer transposed: stride 1 <-> 2", transposed,
         transposed.sliders["stride"], (2, 1)),
        ("filter_playground: preset sobel_x <-> sharpen", playground, playground.preset,
         ("sharpen", "sobel_x")),
        ("filter_playground: one kernel box 1 <-> 2", playground, playground.boxes[1][2],
         (1.0, 2.0)),
        ("step_through: position (0, 0) <-> (1, 2)", steps, steps.sliders["position"],
         ((1, 2), (0, 0))),
        ("receptive_field_explorer: layer 1 kernel 3 <-> 5", fields,
         fields.sliders["kernel_size_1"], (5, 3)),
    ]


def _time_moves(control, values):
    """Median wall ms, maximum wall ms and median CPU ms of ``REPEATS`` moves."""
    control.value = values[0]  # warm-up: caches, fonts
    wall, cpu = [], []
    for n in range(REPEATS):
        value = values[(n + 1) % 2]
        start, start_cpu = time.perf_counter(), time.process_time()
        control.value = value
        wall.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - start_cpu))
    return statistics.median(wall), max(wall), statistics.median(cpu)


def main():
    """Print one line per case; return the names of the cases over the budget."""
    print(f"{'case':50s} {'median ms':>10s} {'max ms':>8s} {'cpu ms':>8s}")
    slow = []
    for name, explorer, control, values in _cases():
        median, worst, cpu = _time_moves(control, values)
        assert explorer.message.value == "", f"{name}: {explorer.message.value}"
        flag = "" if median < BUDGET_MS else f"  over the {BUDGET_MS} ms budget"
        print(f"{name:50s} {median:10.1f} {worst:8.1f} {cpu:8.1f}{flag}")
        if flag:
            slow.append(name)
    return slow


if __name__ == "__main__":
    main()
