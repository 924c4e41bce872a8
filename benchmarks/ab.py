"""A/B: run benchmark scripts against two installed builds, in fresh processes.

Each side is a Python interpreter (a virtual environment with one build of
crbm installed) and the ``benchmarks/`` directory of the same checkout, so
each build runs its own version of the scripts. Rounds alternate A, B, A,
B, ... so that a machine that speeds up or slows down during the run moves
both sides alike; every table is printed, labelled with its side and round.

    python benchmarks/ab.py --a /tmp/venv-main/bin/python:/tmp/main/benchmarks \\
        --b .venv/bin/python:benchmarks --rounds 2 bench_train.py bench_online.py
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def side(value: str) -> tuple[str, Path]:
    python, _, directory = value.partition(":")
    if not directory:
        raise argparse.ArgumentTypeError("expected PYTHON:BENCHMARKS_DIR")
    return python, Path(directory)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", type=side, required=True, help="PYTHON:BENCHMARKS_DIR of build A")
    p.add_argument("--b", type=side, required=True, help="PYTHON:BENCHMARKS_DIR of build B")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("scripts", nargs="+", help="script names, each with its arguments after a "
                   "comma: bench_train.py,--repeats,3")
    args = p.parse_args()
    for spec in args.scripts:
        script, *script_args = spec.split(",")
        for round_ in range(1, args.rounds + 1):
            for label, (python, directory) in (("A", args.a), ("B", args.b)):
                print(f"== {script} {' '.join(script_args)}: {label}, round {round_}", flush=True)
                result = subprocess.run([python, script, *script_args], cwd=directory,
                                        capture_output=True, text=True)
                sys.stdout.write(result.stdout)
                if result.returncode != 0:
                    sys.stdout.write(result.stderr)
                    sys.exit(f"{script} failed on side {label}")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
