"""Screening with target regions and zones against the same requests without them.

    .venv/bin/python bench/regions.py              # 10,000 requests, 5 rounds
    .venv/bin/python bench/regions.py --json       # the same, as JSON

The benchmark mix (bench/common.py) is screened twice per round on the seed
pack, back to back so both see the same load: as it is (no use names a
region), and with every use's target given a region of its territory: a
region of a zone, a region no zone holds, or an occupied region of Ukraine,
in turn. Both runs parse the requests (a region is checked against ISO
3166-2 there) and decide them in one ``decide_many`` call, where each use
with a region asks the catalog for its zones on the date judged and carries
them to Cedar. Reported: decisions per second of each, and the median of the
per-round ratios. The goal is to stay within 10 % of the region-less run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import time
from typing import Any

from clearance.core.regions import regions_of
from clearance.core.request import parse_request
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from common import emit, machine, median, request_mix, table

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _regions_for(screener: Screener) -> dict[str, list[str]]:
    """Per territory, the regions the run with regions cycles through."""
    zoned = sorted({r for z in screener.catalog.zones for s in z.history for r in s.regions})
    chosen: dict[str, list[str]] = {"UA": ["UA-43", "UA-14", "UA-63"]}
    for territory in ("RU", "BY"):
        own = [r for r in zoned if r.startswith(f"{territory}-")]
        deep = [r for r in regions_of(territory) if r not in own][:2]
        chosen[territory] = own + deep
    return chosen


def _with_regions(requests: list[dict[str, Any]], regions: dict[str, list[str]]) -> list[dict]:
    out = []
    for n, request in enumerate(requests):
        if request["action"] == "employ":
            territory = request["target"]["territory"]
            options = regions[territory]
            request = {
                **request,
                "target": {"territory": territory, "region": options[n % len(options)]},
            }
        out.append(request)
    return out


def _screen(screener: Screener, data: list[dict[str, Any]]) -> float:
    """Seconds to parse and decide every request in one batch."""
    started = time.perf_counter()
    requests = [parse_request(d) for d in data]
    screener.decide_many(requests, decision_ids=[str(i) for i in range(len(requests))], now=NOW)
    return time.perf_counter() - started


def run(count: int, rounds: int) -> dict[str, Any]:
    pack = load_pack()
    screener = Screener(pack)
    plain = request_mix([s.id for s in pack.catalog.systems], count)
    regional = _with_regions(plain, _regions_for(screener))
    _screen(screener, plain[:500])  # warm both paths (pycountry's table, Cedar's handles)
    _screen(screener, regional[:500])
    gc.freeze()
    per_round = []
    for _ in range(rounds):
        without = _screen(screener, plain)
        with_regions = _screen(screener, regional)
        per_round.append((count / without, count / with_regions))
    return {
        "machine": machine(),
        "requests": count,
        "uses_with_a_region": sum(1 for r in regional if "region" in r.get("target", {})),
        "rounds": rounds,
        "without_regions_per_s": median([a for a, _ in per_round]),
        "with_regions_per_s": median([b for _, b in per_round]),
        "ratio_median": median([b / a for a, b in per_round]),
    }


def report(result: dict[str, Any]) -> str:
    rows = [
        ["without regions", f"{result['without_regions_per_s']:,.0f}"],
        ["with regions and zones", f"{result['with_regions_per_s']:,.0f}"],
    ]
    return (
        f"{result['requests']:,} requests ({result['uses_with_a_region']:,} uses with a region),"
        f" {result['rounds']} rounds, medians\n"
        + table(["screening (parse + decide_many)", "decisions/s"], rows)
        + f"\nratio with/without (median of rounds): {result['ratio_median']:.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    return emit(run(args.requests, args.rounds), args.json, report)


if __name__ == "__main__":
    raise SystemExit(main())
