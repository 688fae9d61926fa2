"""Screening throughput and latency against raw Cedar, in one process.

    .venv/bin/python bench/screening.py                # 10,000 requests, 5 rounds
    .venv/bin/python bench/screening.py --json         # the same, as JSON
    .venv/bin/python bench/screening.py --profile      # and where the time goes

On the seed pack, with the same generated requests, it measures:

(a) ``Screener.decide_many`` over all requests: decisions per second, with a
    cold memo (a new screener each round, remembering nothing) and warm (the
    same requests again on that screener: every verdict from memory), with
    the memo's hit rates;
(b) ``Screener.decide`` one request at a time (a new screener each round):
    p50 and p99 latency, next to the Cedar floor for it (one
    ``is_authorized_batch`` call per consent holder, as ``decide`` makes);
(c) the reference: ``cedarpy.is_authorized_batch`` with the bundles' parsed
    handles, on the very Cedar requests the engine builds (one per request
    and consent holder with a bundle in force, with the stockpile facts and
    zones), one batch per bundle; the ratios of (a) to it in requests per
    second; and Cedar's own time per evaluation (``AuthzResult.metrics``),
    the floor no binding can go below, against (a) per decision;
(d) on a sample, raw Cedar one call per evaluation with the policies and
    entities as text (parsed again on every call) against parsed handles;
(e) peak resident set size: of a process that only screens the requests, in
    one ``decide_many`` call and in batches of 1,024 as ``clearance screen``
    does (each a child process of its own), and of this benchmark process.

Each round runs a clearance measure and its Cedar reference back to back, so
that both see the same load on a noisy machine; ratios are taken per round and
medians are reported. The benchmark's inputs are frozen out of the garbage
collector (``gc.freeze``) before timing, so that neither side pays for
rescanning them. ``--profile`` adds the garbage collector's share and a
cProfile breakdown of the engine by stage, cold and warm.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import cedarpy

from clearance.core.decision import Outcome
from clearance.core.holders import consent_holders
from clearance.core.request import EmployRequest, TransferRequest, parse_request
from clearance.policy.bundle import PolicyBundle
from clearance.policy.engine import Screener
from clearance.policy.entities import catalog_entities, cedar_request, target_zones
from clearance.policy.pack import ScenarioPack, load_pack
from common import SEED, emit, machine, median, peak_rss_mib, percentile, request_mix, table

AnyRequest = EmployRequest | TransferRequest
Batch = tuple[PolicyBundle, list[dict[str, Any]]]
NOW = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)

GOAL_P50_US = 300.0
GOAL_COLD = 1.0
GOAL_WARM = 10.0
GOAL_RSS_MB = 200.0  # megabytes of 10^6 bytes
MIB_PER_MB = 1_000_000 / (1 << 20)
PROFILE_SINGLE = 3_000
CLI_BATCH = 1_024  # the largest batch ``clearance screen`` decides at once  # requests decided one at a time under the profiler


@dataclass(frozen=True, slots=True)
class Pair:
    """One Cedar evaluation of the reference: a request under one holder's bundle."""

    bundle: PolicyBundle
    cedar: dict[str, Any]


def cedar_pairs(screener: Screener, requests: Sequence[AnyRequest]) -> list[list[Pair]]:
    """Per request, every consent holder with a bundle in force, as the engine asks Cedar:
    the same bases, stockpile facts and zones, no approvals."""
    per_request: list[list[Pair]] = []
    for request in requests:
        pairs: list[Pair] = []
        facts = screener.stockpile_facts(request, request.date)
        zones = target_zones(screener.catalog, request, request.date)
        for holder in consent_holders(screener.catalog, request.system):
            bundle = screener.history.bundle_in_force(holder.party, request.date)
            if bundle is not None:
                bases = (basis.value for basis in holder.bases)
                pairs.append(Pair(bundle, cedar_request(request, bases, (), facts, zones)))
        per_request.append(pairs)
    return per_request


def by_bundle(pairs: Iterable[Pair]) -> list[Batch]:
    """The pairs as one batch per bundle, in order of first appearance."""
    groups: dict[int, Batch] = {}
    for pair in pairs:
        groups.setdefault(id(pair.bundle), (pair.bundle, []))[1].append(pair.cedar)
    return list(groups.values())


def evaluate(batches: Sequence[Batch]) -> None:
    """The reference: one ``is_authorized_batch`` call per bundle (results dropped per batch)."""
    for bundle, cedar in batches:
        cedarpy.is_authorized_batch(cedar, bundle.policy_set, bundle.entities)


def cedar_metrics(batches: Sequence[Batch]) -> dict[str, float]:
    """Cedar's own µs per evaluation (``AuthzResult.metrics``): building the request and
    authorizing, median and mean."""
    build: list[float] = []
    authorize: list[float] = []
    for bundle, cedar in batches:
        for result in cedarpy.is_authorized_batch(cedar, bundle.policy_set, bundle.entities):
            build.append(result.metrics.get("build_request_duration_micros", 0))
            authorize.append(result.metrics.get("authz_duration_micros", 0))
    return {
        "build_request_median": median(build),
        "build_request_mean": sum(build) / len(build),
        "authorize_median": median(authorize),
        "authorize_mean": sum(authorize) / len(authorize),
    }


def memory_probe(requests: int, seed: int, batch: int) -> dict[str, float]:
    """Peak RSS of this process while it screens ``requests`` in batches of ``batch`` (0: one).

    Run in a process of its own (``--memory-probe``), so that nothing of the
    benchmark is counted: the pack, the parsed requests and the decisions only.
    """
    imported = peak_rss_mib()
    pack = load_pack()
    screener = Screener(pack)
    loaded = peak_rss_mib()
    systems = [system.id for system in pack.catalog.systems]
    parsed = [parse_request(r) for r in request_mix(systems, requests, seed)]
    ready = peak_rss_mib()
    size = batch or len(parsed)
    for start in range(0, len(parsed), size):
        chunk = parsed[start : start + size]
        ids = [f"probe-{start + i:06d}" for i in range(len(chunk))]
        screener.decide_many(chunk, decision_ids=ids, now=NOW)
    return {
        "after_imports": imported,
        "after_loading_pack": loaded,
        "after_parsing_requests": ready,
        "peak": peak_rss_mib(),
    }


def probe_in_child(requests: int, seed: int, batch: int) -> dict[str, float]:
    """``memory_probe`` in a fresh process (started while this one is still small)."""
    command = [
        sys.executable,
        __file__,
        "--memory-probe",
        str(batch),
        "--requests",
        str(requests),
        "--seed",
        str(seed),
    ]
    found = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    probe: dict[str, float] = json.loads(found)
    return probe


def entities_text(pack: ScenarioPack, bundle: PolicyBundle) -> str:
    """The bundle's entities as the JSON text they are loaded from."""
    data = catalog_entities(pack.catalog)
    extra = pack.root / bundle.folder / "entities.json"
    if extra.exists():
        data += json.loads(extra.read_text(encoding="utf-8"))
    return json.dumps(data)


def elapsed_ns(run: Callable[[], object]) -> int:
    gc.collect()
    started = time.perf_counter_ns()
    run()
    return time.perf_counter_ns() - started


def decide_one(
    screener: Screener, requests: Sequence[AnyRequest], ids: list[str], i: int
) -> object:
    return screener.decide(requests[i], decision_id=ids[i], now=NOW)


def latencies_us(run_one: Callable[[int], object], count: int) -> list[float]:
    """Sorted latencies of ``run_one(0)`` … ``run_one(count - 1)``, in µs."""
    gc.collect()
    samples: list[float] = []
    for index in range(count):
        started = time.perf_counter_ns()
        run_one(index)
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return samples


@contextmanager
def counting_evaluations() -> Iterator[list[int]]:
    """Count the calls and evaluations made through ``cedarpy.is_authorized_batch``."""
    original = cedarpy.is_authorized_batch
    counts = [0, 0]

    def counted(requests: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        counts[0] += 1
        counts[1] += len(requests)
        return original(requests, *args, **kwargs)

    cedarpy.is_authorized_batch = counted
    try:
        yield counts
    finally:
        cedarpy.is_authorized_batch = original


def summary(runs: Sequence[float]) -> dict[str, Any]:
    return {"median": median(runs), "runs": list(runs)}


def profile_breakdown(label: str, work: Callable[[], object]) -> str:
    """Where ``work`` spends its time, under cProfile, by stage of the engine."""
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    stats = pstats.Stats(profiler)
    entries: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]

    def cumulative(file_suffix: str, function: str) -> float:
        if file_suffix == "~":  # built-ins are named "<built-in method …>"
            return sum(v[3] for (f, _, n), v in entries.items() if f == "~" and function in n)
        return sum(
            v[3]
            for (f, _, n), v in entries.items()
            if f.replace("\\", "/").endswith(file_suffix) and n == function
        )

    total = cumulative("clearance/policy/engine.py", "decide_many")
    wrapper = cumulative("cedarpy/__init__.py", "is_authorized_batch")
    native = cumulative("~", "cedarpy._internal.is_authorized_batch")
    decode = cumulative("json/__init__.py", "loads")
    judge = cumulative("clearance/policy/evaluate.py", "judge")
    build = cumulative("clearance/policy/evaluate.py", "cedar")
    plan = cumulative("clearance/policy/engine.py", "_plan")
    record = cumulative("clearance/policy/engine.py", "_verdict")
    made = cumulative("clearance/policy/engine.py", "_decision")
    facts = cumulative("clearance/policy/engine.py", "stockpile_facts")
    parts = [
        ("Cedar, native (cedarpy._internal.is_authorized_batch)", native),
        ("cedarpy wrapper: json.loads of every result", decode),
        ("cedarpy wrapper: json.dumps of every context, result objects", wrapper - native - decode),
        ("building Cedar requests (Question.cedar → cedar_request)", build),
        ("judging: grouping, gates, conditions, HolderJudgement", judge - wrapper - build),
        ("planning: check_against, consent holders, bundle in force", plan),
        ("verdicts: model_dump, combine (_verdict)", record),
        ("stockpile facts of transfers (stockpile_facts)", facts),
        ("Decision objects: id, time, request digest (_decision)", made),
        (
            "the rest of decide_many: memo keys and lookups",
            total - judge - plan - record - facts - made,
        ),
    ]
    of_which = [
        (
            "  of the memo: lookups (Memo.get)",
            cumulative("clearance/policy/memo.py", "get"),
        ),
        (
            "  of the stockpile facts: months_to_recover",
            cumulative("clearance/core/stockpile.py", "months_to_recover"),
        ),
        (
            "  of the records: canonical_digest",
            cumulative("clearance/core/digest.py", "canonical_digest"),
        ),
        (
            "  of the records: model_dump",
            cumulative("pydantic/main.py", "model_dump"),
        ),
        (
            "  of building: ConsentHolder.bases",
            cumulative("clearance/core/holders.py", "bases"),
        ),
    ]
    rows = [
        [name, f"{seconds * 1000:,.0f}", f"{100 * seconds / total:.0f}%"]
        for name, seconds in [*parts, *of_which]
    ]
    out = io.StringIO()
    out.write(f"Profile: {label} (cProfile; total {total * 1000:,.0f} ms)\n\n")
    out.write(table(["where", "ms", "share"], rows))
    out.write("\n\nTop functions by own time:\n")
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(12)
    return out.getvalue().rstrip() + "\n"


def gc_share(work: Callable[[], object]) -> tuple[float, float]:
    """(total ms, ms spent in the cyclic garbage collector) of ``work``."""
    spent = [0]
    began = [0]

    def timer(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began[0] = time.perf_counter_ns()
        else:
            spent[0] += time.perf_counter_ns() - began[0]

    gc.callbacks.append(timer)
    try:
        total = elapsed_ns(work)
    finally:
        gc.callbacks.remove(timer)
    return total / 1e6, spent[0] / 1e6


def gc_report(pack: ScenarioPack, requests: Sequence[AnyRequest], ids: list[str]) -> str:
    """How much of decide_many the garbage collector takes, in one batch and in CLI-sized ones
    (cold: a new screener each time)."""

    def chunked() -> None:
        screener = Screener(pack)
        for start in range(0, len(requests), CLI_BATCH):
            end = start + CLI_BATCH
            screener.decide_many(requests[start:end], decision_ids=ids[start:end], now=NOW)

    rows = []
    for label, work in [
        (
            f"one decide_many of {len(requests):,}",
            lambda: Screener(pack).decide_many(requests, decision_ids=ids, now=NOW),
        ),
        (f"decide_many in batches of {CLI_BATCH:,}", chunked),
    ]:
        runs = [gc_share(work) for _ in range(3)]
        total = median([t for t, _ in runs])
        collector = median([g for _, g in runs])
        rows.append(
            [label, f"{total:,.0f}", f"{collector:,.0f}", f"{100 * collector / total:.0f}%"]
        )
    return (
        "Garbage collector (no profiler; medians of 3; the benchmark's inputs frozen):\n\n"
        + table(["work", "total ms", "in gc ms", "share"], rows)
        + "\n"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    # (e) first, while this process is still small: on Linux a child's peak RSS
    # is never reported below the size of its parent when it was started.
    memory = {
        "one_batch": probe_in_child(args.requests, args.seed, 0),
        f"batches_of_{CLI_BATCH}": probe_in_child(args.requests, args.seed, CLI_BATCH),
    }
    pack = load_pack()
    screener = Screener(pack)
    systems = [system.id for system in pack.catalog.systems]
    requests: list[AnyRequest] = [
        parse_request(r) for r in request_mix(systems, args.requests, args.seed)
    ]
    n = len(requests)
    ids = [f"bench-{i:06d}" for i in range(n)]
    per_request = cedar_pairs(screener, requests)
    pairs = [pair for of_request in per_request for pair in of_request]
    batches = by_bundle(pairs)
    single_batches = [by_bundle(of_request) for of_request in per_request]

    # What clearance decides and asks of Cedar, cold; what Cedar itself reports (untimed).
    with counting_evaluations() as counts:
        decisions = Screener(pack).decide_many(requests, decision_ids=ids, now=NOW)
    outcomes = {o.value: sum(d.outcome is o for d in decisions) for o in Outcome}
    del decisions
    cedar = cedar_metrics(batches)
    # The inputs live as long as the benchmark: keep the garbage collector from
    # rescanning them at every full collection, which no screening process pays.
    gc.collect()
    gc.freeze()

    # (a) and (c): all requests at once, cold then warm, then the reference.
    cold_ns: list[int] = []
    warm_ns: list[int] = []
    raw_ns: list[int] = []
    memo: dict[str, Any] = {}
    for _ in range(args.repeats):
        fresh = Screener(pack)
        cold_ns.append(elapsed_ns(partial(fresh.decide_many, requests, decision_ids=ids, now=NOW)))
        memo = {
            "cold_judgements": fresh.judgements.stats().as_dict(),
            "cold_verdicts": fresh.verdicts.stats().as_dict(),
        }
        warm_ns.append(elapsed_ns(partial(fresh.decide_many, requests, decision_ids=ids, now=NOW)))
        memo["warm_verdicts"] = fresh.verdicts.stats().as_dict()
        raw_ns.append(elapsed_ns(lambda: evaluate(batches)))
    cold_rate = [n / (ns / 1e9) for ns in cold_ns]
    warm_rate = [n / (ns / 1e9) for ns in warm_ns]
    raw_rate = [n / (ns / 1e9) for ns in raw_ns]
    raw_eval_rate = [len(pairs) / (ns / 1e9) for ns in raw_ns]
    cold_ratios = [c / r for c, r in zip(cold_rate, raw_rate, strict=True)]
    warm_ratios = [w / r for w, r in zip(warm_rate, raw_rate, strict=True)]
    # Cedar's own time, authorizing only, per decision: the limit no binding passes.
    authz_per_decision = cedar["authorize_mean"] * len(pairs) / n
    cold_us = [ns / 1000 / n for ns in cold_ns]
    warm_us = [ns / 1000 / n for ns in warm_ns]
    raw_us = [ns / 1000 / n for ns in raw_ns]

    # (b) one request at a time: decide, and Cedar alone the way decide calls it.
    count = min(args.latency_requests or n, n)
    decide_p50: list[float] = []
    decide_p99: list[float] = []
    decide_mean: list[float] = []
    floor_p50: list[float] = []
    floor_p99: list[float] = []
    for _ in range(args.repeats):
        samples = latencies_us(partial(decide_one, Screener(pack), requests, ids), count)
        decide_p50.append(percentile(samples, 0.50))
        decide_p99.append(percentile(samples, 0.99))
        decide_mean.append(sum(samples) / len(samples))
        samples = latencies_us(lambda i: evaluate(single_batches[i]), count)
        floor_p50.append(percentile(samples, 0.50))
        floor_p99.append(percentile(samples, 0.99))

    # (d) one Cedar call per evaluation on a sample: text against parsed handles.
    sample = [pair for of_request in per_request[: args.sample] for pair in of_request]
    texts = {id(p.bundle): (p.bundle.text, entities_text(pack, p.bundle)) for p in sample}

    def per_call_text() -> list[cedarpy.Decision]:
        return [cedarpy.is_authorized(p.cedar, *texts[id(p.bundle)]).decision for p in sample]

    def per_call_handles() -> list[cedarpy.Decision]:
        return [
            cedarpy.is_authorized(p.cedar, p.bundle.policy_set, p.bundle.entities).decision
            for p in sample
        ]

    if per_call_text() != per_call_handles():
        raise SystemExit("policies as text and as parsed handles disagree: no comparison")
    sample_batches = by_bundle(sample)
    text_us: list[float] = []
    handle_us: list[float] = []
    batch_us: list[float] = []
    for _ in range(args.repeats):
        text_us.append(elapsed_ns(per_call_text) / 1000 / len(sample))
        handle_us.append(elapsed_ns(per_call_handles) / 1000 / len(sample))
        batch_us.append(elapsed_ns(lambda: evaluate(sample_batches)) / 1000 / len(sample))

    peak_mib = peak_rss_mib()
    result: dict[str, Any] = {
        "machine": machine(),
        "parameters": {
            "requests": n,
            "rounds": args.repeats,
            "seed": args.seed,
            "latency_requests": count,
            "sample_requests": min(args.sample, n),
        },
        "workload": {
            "outcomes": outcomes,
            "reference_evaluations": len(pairs),
            "reference_batches": len(batches),
            "clearance_cedar_calls": counts[0],
            "clearance_evaluations": counts[1],
        },
        "decide_many_cold_per_s": summary(cold_rate),
        "decide_many_warm_per_s": summary(warm_rate),
        "raw_batch_requests_per_s": summary(raw_rate),
        "raw_batch_evaluations_per_s": summary(raw_eval_rate),
        "cold_ratio": summary(cold_ratios),
        "warm_ratio": summary(warm_ratios),
        "memo": memo,
        "us_per_decision": {
            "cold": summary(cold_us),
            "warm": summary(warm_us),
            "raw_cedarpy": summary(raw_us),
            "cedar_authorize_only": authz_per_decision,
        },
        "cedar_reported_us_per_evaluation": cedar,
        "decide_latency_us": {
            "p50": summary(decide_p50),
            "p99": summary(decide_p99),
            "mean": summary(decide_mean),
        },
        "raw_single_request_latency_us": {"p50": summary(floor_p50), "p99": summary(floor_p99)},
        "raw_per_evaluation_us": {
            "evaluations": len(sample),
            "text_per_call": summary(text_us),
            "handles_per_call": summary(handle_us),
            "handles_batched": summary(batch_us),
            "text_over_handles": median([t / h for t, h in zip(text_us, handle_us, strict=True)]),
        },
        "peak_rss_mib": {"screening_process": memory, "benchmark_process": peak_mib},
        "goals": {
            "decide_p50_at_most_300us": median(decide_p50) <= GOAL_P50_US,
            "cold_at_least_1_0_raw": median(cold_ratios) >= GOAL_COLD,
            "warm_at_least_10_raw": median(warm_ratios) >= GOAL_WARM,
            "peak_rss_at_most_200mb": memory["one_batch"]["peak"] <= GOAL_RSS_MB * MIB_PER_MB,
        },
    }
    if args.profile:
        single = requests[:PROFILE_SINGLE]
        warm = Screener(pack)
        warm.decide_many(requests, decision_ids=ids, now=NOW)
        result["profile"] = [
            gc_report(pack, requests, ids),
            profile_breakdown(
                f"decide_many over {n:,} requests, cold memo",
                lambda: Screener(pack).decide_many(requests, decision_ids=ids, now=NOW),
            ),
            profile_breakdown(
                f"decide_many over {n:,} requests, warm memo",
                lambda: warm.decide_many(requests, decision_ids=ids, now=NOW),
            ),
            profile_breakdown(
                f"decide one at a time, {len(single):,} requests, cold memo",
                lambda: [
                    fresh.decide(r, decision_id=i, now=NOW)
                    for fresh in [Screener(pack)]
                    for r, i in zip(single, ids, strict=False)
                ],
            ),
        ]
    return result


def _row(name: str, value: dict[str, Any], fmt: str, goal: str = "") -> list[str]:
    runs = value["runs"]
    low, high = format(min(runs), fmt), format(max(runs), fmt)
    return [name, format(value["median"], fmt), f"{low}–{high}", goal]


def _rate(stats: dict[str, float]) -> str:
    return f"{stats['hits']:,} hits, {stats['misses']:,} misses ({100 * stats['hit_rate']:.0f}%)"


def report(r: dict[str, Any]) -> str:
    m, p, w, goals = r["machine"], r["parameters"], r["workload"], r["goals"]
    lat, floor, per = (
        r["decide_latency_us"],
        r["raw_single_request_latency_us"],
        r["raw_per_evaluation_us"],
    )
    cedar, memo = r["cedar_reported_us_per_evaluation"], r["memo"]
    n, rss = p["requests"], r["peak_rss_mib"]
    one = rss["screening_process"]["one_batch"]
    chunked = rss["screening_process"][f"batches_of_{CLI_BATCH}"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    speed = r["us_per_decision"]
    limit = speed["cedar_authorize_only"]
    rows = [
        _row("(a) decide_many, cold memo, decisions/s", r["decide_many_cold_per_s"], ",.0f"),
        _row("(a) decide_many, warm memo, decisions/s", r["decide_many_warm_per_s"], ",.0f"),
        _row("(c) raw cedarpy batches, requests/s", r["raw_batch_requests_per_s"], ",.0f"),
        _row("(c) raw cedarpy batches, evaluations/s", r["raw_batch_evaluations_per_s"], ",.0f"),
        _row(
            "(a)/(c) cold memo",
            r["cold_ratio"],
            ".2f",
            f"≥ {GOAL_COLD}: {verdict(goals['cold_at_least_1_0_raw'])}",
        ),
        _row(
            "(a)/(c) warm memo",
            r["warm_ratio"],
            ".1f",
            f"≥ {GOAL_WARM:.0f}: {verdict(goals['warm_at_least_10_raw'])}",
        ),
        _row("(a) cold, µs/decision", speed["cold"], ",.1f"),
        _row("(a) warm, µs/decision", speed["warm"], ",.1f"),
        _row("(c) raw cedarpy, µs/request", speed["raw_cedarpy"], ",.1f"),
        ["(c) Cedar's own authorization, µs/request", f"{limit:.1f}", "", "the limit"],
        [
            "(a) cold / Cedar's own authorization",
            f"{speed['cold']['median'] / limit:.1f}×",
            "",
            "",
        ],
        [
            "(a) warm / Cedar's own authorization",
            f"{speed['warm']['median'] / limit:.1f}×",
            "",
            "",
        ],
        _row(
            "(b) clearance decide, p50 µs",
            lat["p50"],
            ",.0f",
            f"≤ {GOAL_P50_US:.0f}: {verdict(goals['decide_p50_at_most_300us'])}",
        ),
        _row("(b) clearance decide, p99 µs", lat["p99"], ",.0f"),
        _row("(b) clearance decide, mean µs", lat["mean"], ",.0f"),
        _row("(b) raw cedarpy per request, p50 µs", floor["p50"], ",.0f"),
        _row("(b) raw cedarpy per request, p99 µs", floor["p99"], ",.0f"),
        _row("(d) raw, text parsed per call, µs/eval", per["text_per_call"], ",.0f"),
        _row("(d) raw, parsed handles per call, µs/eval", per["handles_per_call"], ",.0f"),
        _row("(d) raw, parsed handles batched, µs/eval", per["handles_batched"], ",.0f"),
        ["(d) text / handles, per call", f"{per['text_over_handles']:.1f}×", "", ""],
        [
            f"(e) peak RSS, {n:,} in one decide_many, MiB",
            f"{one['peak']:,.0f}",
            "",
            f"≤ {GOAL_RSS_MB:.0f} MB: {verdict(goals['peak_rss_at_most_200mb'])}",
        ],
        [
            f"(e) peak RSS, {n:,} in batches of {CLI_BATCH:,}, MiB",
            f"{chunked['peak']:,.0f}",
            "",
            "",
        ],
        [
            "(e) peak RSS, this benchmark process, MiB",
            f"{rss['benchmark_process']:,.0f}",
            "",
            "",
        ],
    ]
    lines = [
        f"clearance screening benchmark: {p['requests']:,} requests (seed {p['seed']}), "
        f"medians of {p['rounds']} rounds",
        f"{m['cpus']} CPUs ({m['cpu']}), {m['system']}, Python {m['python']}, "
        f"cedarpy {m['cedarpy']}, pydantic {m['pydantic']}, clearance {m['clearance']}",
        "",
        "outcomes: " + ", ".join(f"{k} {v:,}" for k, v in w["outcomes"].items()),
        f"Cedar evaluations: reference {w['reference_evaluations']:,} in "
        f"{w['reference_batches']} batches; clearance {w['clearance_evaluations']:,} in "
        f"{w['clearance_cedar_calls']} calls, cold (the same question once; a second pass for"
        " gated holders)",
        f"Cedar's own metrics per evaluation (median, mean): building the request "
        f"{cedar['build_request_median']:.0f}, {cedar['build_request_mean']:.1f} µs; "
        f"authorizing {cedar['authorize_median']:.0f}, {cedar['authorize_mean']:.1f} µs",
        "memo, cold round: judgements "
        + _rate(memo["cold_judgements"])
        + "; verdicts "
        + _rate(memo["cold_verdicts"])
        + "; after the warm round, verdicts "
        + _rate(memo["warm_verdicts"]),
        f"latency over {p['latency_requests']:,} requests; (d) over the "
        f"{per['evaluations']:,} evaluations of the first {p['sample_requests']:,} requests",
        f"(e) in a process of its own: {one['after_imports']:.0f} MiB after imports, "
        f"{one['after_loading_pack']:.0f} after loading the pack, "
        f"{one['after_parsing_requests']:.0f} with the requests parsed; the benchmark "
        "process also holds the reference's Cedar requests",
        "",
        table(["measure", "median", f"range ({p['rounds']} rounds)", "goal"], rows),
    ]
    for text in r.get("profile", []):
        lines += ["", text]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Screening throughput and latency against raw Cedar."
    )
    parser.add_argument("--requests", type=int, default=10_000, help="requests (default 10,000)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of each measure (default 5)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the request mix")
    parser.add_argument(
        "--latency-requests",
        type=int,
        default=0,
        help="requests decided one at a time per round (default: all)",
    )
    parser.add_argument(
        "--sample", type=int, default=250, help="requests in the per-call sample (default 250)"
    )
    parser.add_argument("--profile", action="store_true", help="also profile the engine")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--memory-probe", type=int, metavar="BATCH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe is not None:
        json.dump(memory_probe(args.requests, args.seed, args.memory_probe), sys.stdout)
        return 0
    return emit(run(args), args.json, report)


if __name__ == "__main__":
    sys.exit(main())
