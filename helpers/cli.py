"""The ``mpcourse`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mpcourse`` console script."""
    from helpers import __version__

    parser = argparse.ArgumentParser(prog="mpcourse", description="Multiprocessing course tools.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("doctor", help="check that this machine is ready for the course")
    sub.add_parser("cpus", help="print how many CPUs this process can really use")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from helpers.doctor import run_doctor

        return run_doctor()
    if args.command == "cpus":
        from helpers.cpus import usable_cpus

        print(usable_cpus())
        return 0
    parser.print_help()
    return 0 if args.command is None else 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
