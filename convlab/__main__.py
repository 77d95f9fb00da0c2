"""Command line for teachers.

``python -m convlab gallery OUTDIR`` renders the GIF gallery for slides;
``python -m convlab report ASSIGNMENT`` (in an nbgrader course folder) lists the submissions that
were not graded or were altered, and why (docs/teaching.md).
"""

import argparse
import sys


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m convlab",
        description="convlab: every convolution of deep learning in readable NumPy. "
                    "Commands for teachers.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    render = commands.add_parser(
        "gallery",
        help="render the classic cases (padding, strides, transposed, dilated) as GIFs",
        description="Render one GIF per classic case of convolution arithmetic (and its "
                    "transposed twin) into OUTDIR, from the table convlab.viz.animate.CASES.",
    )
    render.add_argument("outdir", metavar="OUTDIR", help="folder for the GIFs (created)")
    render.add_argument("--only", nargs="+", metavar="CASE",
                         help="render only these cases (see --list)")
    render.add_argument("--list", action="store_true", help="list the case names and exit")
    render.add_argument("--dpi", type=int, default=80, help="resolution (default 80)")
    render.add_argument("--mp4", action="store_true", help="also write MP4s (needs ffmpeg)")
    report = commands.add_parser(
        "report",
        help="after nbgrader autograde: the submissions not graded or altered, and why",
        description="Run in an nbgrader course folder after `nbgrader autograde ASSIGNMENT`: "
                    "lists, in one place, the submissions that were not graded (no notebook, "
                    "a notebook under another name, an invalid file, a failed autograde), "
                    "those that were altered (edited or deleted check cells, answers that "
                    "change the grader or call ready-made ops in a write-it-yourself task), "
                    "late ones, and cells stopped by the time limit. Needs nbgrader.",
    )
    report.add_argument("assignment", metavar="ASSIGNMENT", help="e.g. 02_computing_convolution")
    report.add_argument("--course", default=".", metavar="DIR",
                        help="the course folder (default: the current folder)")
    args = parser.parse_args(argv)

    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "report":
        from .grading import report as print_report

        try:
            print_report(args.course, args.assignment)
        except Exception as err:  # noqa: BLE001 (a missing gradebook or assignment, in words)
            print(f"error: {err}", file=sys.stderr)
            return 1
        return 0

    import matplotlib

    matplotlib.use("Agg")  # a command line renders files, never windows
    from .viz.animate import gallery, gallery_cases

    if args.list:
        print("\n".join(gallery_cases()))
        return 0
    try:
        for path in gallery(args.outdir, names=args.only, dpi=args.dpi, mp4=args.mp4):
            print(path)
    except (ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
