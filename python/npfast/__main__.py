"""Command line: ``python -m npfast bench [--quick] [--out DIR] [--only NAME ...]``."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m npfast")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="run the benchmark report")
    bench.add_argument("--quick", action="store_true", help="small sweep, about 3 minutes")
    bench.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the test suite's mode
    bench.add_argument("--out", default="bench-out", help="folder for report.md and the plots")
    bench.add_argument("--only", nargs="+", metavar="NAME", help="run only these sections")
    sub.add_parser("config", help="print npfast.config()")
    args = parser.parse_args(argv)
    if args.command == "config":
        import npfast

        npfast.show_config()
        return 0
    from ._bench.report import run_report

    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    return run_report(mode=mode, out_dir=args.out, only=args.only)


if __name__ == "__main__":
    sys.exit(main())
