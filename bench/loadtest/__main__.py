"""python -m bench.loadtest reliability|bench [options]: see bench/loadtest/__init__.py."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _think(text: str) -> tuple[float, float]:
    low, high = (float(part) for part in text.split(","))
    if not 0 <= low <= high:
        raise argparse.ArgumentTypeError("think time: MIN,MAX seconds with 0 <= MIN <= MAX")
    return low, high


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    reliability = commands.add_parser(
        "reliability", help="locust against gunicorn, SQLite and PostgreSQL (issue #6)"
    )
    reliability.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    reliability.add_argument(
        "--steps",
        type=_ints,
        default=(10, 20, 40, 80, 160),
        help="user counts to step through, e.g. 10,20,40",
    )
    reliability.add_argument("--duration", type=int, default=30, help="seconds per step")
    reliability.add_argument("--candidates", type=int, default=200)
    reliability.add_argument(
        "--think", type=_think, default=(0.2, 0.6), help="think time between steps, MIN,MAX seconds"
    )
    reliability.add_argument("--warm-up", type=int, default=5, help="seconds, not counted")
    reliability.add_argument(
        "--quiet-wait",
        type=int,
        default=15,
        help="seconds to wait for other processes to leave the CPUs before each database's "
        "run (0: not at all)",
    )
    reliability.add_argument(
        "--site", type=Path, help="the built static site to browse (default build/site)"
    )
    reliability.add_argument(
        "--budget",
        type=int,
        default=340,
        help="seconds for the whole run (steps that would overrun it are not started)",
    )
    reliability.add_argument(
        "--out",
        type=Path,
        help="the markdown report (default docs/reliability.md); 'none' writes none",
    )
    reliability.add_argument(
        "--json",
        type=Path,
        help="the raw figures (default build/bench/reliability.json); 'none' writes none",
    )

    bench = commands.add_parser(
        "bench", help="wrk: shop pages beside a bare Flask route on gunicorn (issue #7)"
    )
    bench.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    bench.add_argument("--connections", type=int, default=20)
    bench.add_argument("--threads", type=int, default=2)
    bench.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="py-spy the slowest endpoint: when a goal is missed (auto)",
    )
    bench.add_argument("--out", type=Path, help="markdown (default docs/shop-performance.md)")
    bench.add_argument("--json", type=Path, help="JSON (default build/bench/shop.json)")

    args = parser.parse_args(argv)
    if args.command == "reliability":
        from . import reliability as module

        settings = module.Settings(
            databases=tuple(d.strip() for d in args.databases.split(",") if d.strip()),
            steps=args.steps,
            duration=args.duration,
            candidates=args.candidates,
            think=args.think,
            warm_up=args.warm_up,
            budget=args.budget,
            quiet_wait=args.quiet_wait,
        )
        if args.site is not None:
            settings.site = args.site.resolve()
        if args.out is not None:
            settings.out = None if str(args.out) == "none" else args.out.resolve()
        if args.json is not None:
            settings.json_out = None if str(args.json) == "none" else args.json.resolve()
        module.run(settings)
        return 0
    from . import shop_bench as bench_module

    bench_settings = bench_module.Settings(
        duration=args.duration,
        connections=args.connections,
        threads=args.threads,
        profile=args.profile,
    )
    if args.out is not None:
        bench_settings.out = None if str(args.out) == "none" else args.out.resolve()
    if args.json is not None:
        bench_settings.json_out = None if str(args.json) == "none" else args.json.resolve()
    bench_module.run(bench_settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
