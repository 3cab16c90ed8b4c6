"""Command line: ``python -m npfast bench [--quick] [--out DIR] [--only NAME ...] [--threads 1,2,4]``."""

from __future__ import annotations

import argparse
import sys


def _counts(text: str) -> list:
    try:
        counts = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of thread counts: {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be >= 1: {text!r}")
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m npfast")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="run the benchmark report")
    bench.add_argument("--quick", action="store_true", help="small sweep, about 3 minutes")
    bench.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the test suite's mode
    bench.add_argument("--out", default="bench-out", help="folder for report.md and the plots")
    bench.add_argument("--only", nargs="+", metavar="NAME", help="run only these sections")
    bench.add_argument("--threads", type=_counts, metavar="N,N,...",
                       help="thread counts of the scaling section (default: powers of two up "
                            "to the usable cores)")
    sub.add_parser("config", help="print npfast.config()")
    args = parser.parse_args(argv)
    if args.command == "config":
        import npfast

        npfast.show_config()
        return 0
    from ._bench.report import run_report

    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    return run_report(mode=mode, out_dir=args.out, only=args.only, threads=args.threads)


if __name__ == "__main__":
    sys.exit(main())
