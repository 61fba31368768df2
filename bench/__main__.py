"""`python -m bench [name ...]`: run all benchmarks or the named ones, print a table.

Names: search, profile_open, cold_start, memory, seed, receipts, bundle. Results are also
written to bench/results/<name>.json.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bench import BENCHMARKS
from bench.common import Result, print_table, save


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="name", help=f"any of: {', '.join(BENCHMARKS)} (default: all)"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    results: list[Result] = []
    for name in args.names or list(BENCHMARKS):
        print(f"bench: running {name}…", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        result: Result = module.run()
        path = save(result)
        print(f"bench: {name} written to {path}", file=sys.stderr, flush=True)
        results.append(result)
    print()
    print_table(results)
    failed = [r.metric for res in results for r in res.rows if r.passed is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
