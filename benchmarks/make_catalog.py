"""Generate a synthetic, valid catalog of a given size, deterministic from a seed.

    python -m benchmarks.make_catalog --controls 1000 --people 50000 --systems 200 \\
        --accounts 200000 --entitlement-rows 5000000 --reviews-per-control 4 --seed 1 \\
        --out /tmp/cb-full

One control per (system, account kind): user, privileged, service-account, break-glass
and third-party access reviews. ``--entitlement-rows`` is the size of one snapshot of
every system (the current extract); each review period has its own extract of about the
same size, so the catalog holds ``reviews-per-control + 1`` times that many rows on disk.
About ``--gap-rate`` of controls, reviews, NHIs, exceptions and break-glass uses carry a
deliberate gap (a tenth of that for review items and leavers' accounts); the catalog
validates and evaluates without internal errors.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from .synthetic.accounts import make_accounts, write_extract
from .synthetic.controls import kinds_per_system, make_control, make_system, write_control
from .synthetic.people import Directory
from .synthetic.registers import Registers
from .synthetic.reviews import write_review
from .synthetic.spec import Spec


def generate(spec: Spec, out: Path) -> None:
    """Write the catalog for ``spec`` into ``out`` (replaced if it exists)."""
    spec.check()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    people = Directory(spec)
    people.write(out)
    registers = Registers(spec, people)
    finance = max(1, spec.systems // 10)
    for index, kinds in enumerate(kinds_per_system(spec)):
        system = make_system(spec, people, index, kinds)
        accounts = make_accounts(spec, people, index, system.code, kinds, system.admins)
        controls = [make_control(spec, people, system, kind) for kind in kinds]
        if index < finance:
            registers.add_sod(out, system, controls[0], accounts)
        for period, taken in enumerate(spec.snapshots[:-1]):
            rel = f"extracts/{system.id}/{taken.date().isoformat()}.csv"
            extract = write_extract(out, rel, accounts, period, people)
            for control in controls:
                late = write_review(out, spec, people, control, period, accounts, extract)
                if late:
                    registers.add_waiver(late)
        current = f"extracts/{system.id}/{spec.snapshots[-1].date().isoformat()}.csv"
        registers.add_system(system, write_extract(out, current, accounts, spec.current, people))
        for control in controls:
            write_control(out, spec, people, control)
            if control.kind == "break-glass":
                registers.add_break_glass(system, control, accounts)
        if "service" in kinds:
            registers.write_nhis(out, system, accounts)
    registers.write(out)


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """The catalog size options (defaults: the full size of the benchmark)."""
    parser.add_argument("--controls", type=int, default=1000)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--systems", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--entitlement-rows", type=int, default=5_000_000)
    parser.add_argument("--reviews-per-control", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gap-rate", type=float, default=0.05)


def spec_of(args: argparse.Namespace) -> Spec:
    """The :class:`Spec` the size options ask for."""
    return Spec(
        args.controls,
        args.people,
        args.systems,
        args.accounts,
        args.entitlement_rows,
        args.reviews_per_control,
        args.seed,
        args.gap_rate,
    )


def parse_args(argv: list[str] | None = None) -> tuple[Spec, Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_size_arguments(parser)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    return spec_of(args), args.out


def main(argv: list[str] | None = None) -> int:
    spec, out = parse_args(argv)
    started = time.perf_counter()
    try:
        generate(spec, out)
    except ValueError as exc:
        print(f"make_catalog: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
