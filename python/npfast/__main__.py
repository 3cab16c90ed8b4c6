"""Command line: ``python -m npfast bench [--quick] [--out DIR] [--only NAME ...] [--threads 1,2,4]``."""

from __future__ import annotations

import argparse
import sys


def _counts(text: str) -> list:
    from ._npfast import _max_threads

    try:
        counts = [int(v) for v in text.split(",")]
    except ValueError:  # an empty item too ("1,,2", ",")
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of thread counts: {text!r}") from None
    if min(counts) < 1 or max(counts) > _max_threads:
        raise argparse.ArgumentTypeError(
            f"thread counts must be between 1 and {_max_threads}: {text!r}")
    return counts


def main(argv=None) -> int:
    from ._bench.report import SECTIONS

    names = " ".join(s.replace("_", "-") for s in SECTIONS)
    parser = argparse.ArgumentParser(prog="python -m npfast")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="run the benchmark report",
                           description=f"Sections: {names}.")
    bench.add_argument("--quick", action="store_true", help="small sweep, about 3 minutes")
    bench.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the test suite's mode
    bench.add_argument("--out", default="bench-out", help="folder for report.md and the plots")
    bench.add_argument("--only", nargs="+", metavar="NAME", help="run only these sections")
    bench.add_argument("--threads", type=_counts, metavar="N,N,...",
                       help="thread counts of the scaling section (default: powers of two up "
                            "to the usable cores)")
    sub.add_parser("config", help="print npfast.config()")
    args = parser.parse_args(argv)
    import npfast

    try:
        npfast.config()
    except ValueError as exc:  # an environment variable npfast refuses (NPFAST_ISA)
        print(f"python -m npfast {args.command}: {exc}", file=sys.stderr)
        return 2
    import os

    if args.command == "config":
        try:
            npfast.show_config()
        except BrokenPipeError:  # `python -m npfast config | head -1`: the reader is done
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    # Everything the run needs is checked before it starts (probe22d: an unknown section
    # left its --out folder behind, an unwritable one failed after the whole report).
    unknown = [n for n in args.only or [] if n.replace("-", "_") not in SECTIONS]
    if unknown:
        bench.error(f"--only: unknown section(s) {', '.join(unknown)}; choose from {names}")
    if args.only:
        args.only = list(dict.fromkeys(args.only))  # a section named twice runs once
    if args.threads:
        args.threads = list(dict.fromkeys(args.threads))
        if args.only and "scaling" not in args.only:
            print("python -m npfast bench: --threads sets the scaling section's thread counts; "
                  "it is not in --only", file=sys.stderr)
    try:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, ".npfast-write-check"), "w"):
            pass
        os.remove(os.path.join(args.out, ".npfast-write-check"))
    except OSError as exc:  # a file of that name, no permission, an empty name, read-only
        bench.error(f"--out: cannot write into the folder {args.out!r}: {exc.strerror or exc}")
    from ._bench.report import run_report

    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    return run_report(mode=mode, out_dir=args.out, only=args.only, threads=args.threads)


if __name__ == "__main__":
    sys.exit(main())
