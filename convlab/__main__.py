"""Command line: ``python -m convlab gallery OUTDIR`` renders the GIF gallery for slides."""

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
    args = parser.parse_args(argv)

    if args.command is None:
        parser.print_help()
        return 2

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
