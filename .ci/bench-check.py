#!/usr/bin/env python3
"""Checks drydock-bench's output (one JSON object per backend on stdin): every key of issue 21 is
there at every preset, each figure is a number that makes sense, the counts are the preset's, the
ratios are the figures' own, and no page answered with an error under load. Speed is not judged
here (BENCHMARKS.md records it); that the figures are computed and sane is."""
import json
import sys

PRESETS = {"small": dict(teams=20, images=1000, containers=5000, findings=100000)}
RATES = ["ingest_findings_per_s", "raw_insert_findings_per_s", "ledger_appends_per_s"]
TIMES = ["report_1000_ms_p50", "report_1000_ms_p99", "grype_1509_ms_p50", "search_cve_ms_p50",
         "search_cve_ms_p99", "search_range_ms_p50", "campaign_10k_ms", "campaign_near_10k_ms", "first_evaluation_s", "reevaluate_s", "risk_rank_s",
         "ledger_verify_s_per_million", "proof_ms_p50", "peak_rss_mb", "admission_pod5_ms_p50", "admission_pod5_ms_p99",
         "admission_pod5_uncached_ms_p50", "admission_pod5_uncached_ms_p99"]
PAGES = ["static", "healthz", "overview", "team", "scorecard", "search", "search_api"]


def check(o):
    problems = []
    def need(cond, what):
        if not cond:
            problems.append(what)
    keys = RATES + TIMES + ["ingest_ratio_to_raw_insert", "backend", "preset", "campaign_images", "campaign_near_10k_images", "statistics_s", "statistics_tables"]
    for p in PAGES:
        keys += [f"{p}_ms_p50", f"{p}_ms_p99", f"{p}_rps", f"{p}_errors"]
        if p != "static":
            keys.append(f"{p}_p99_ratio_to_static")
    for k in keys:
        need(k in o and o[k] is not None, f"{k} missing")
    if problems:
        return problems
    for k in RATES + TIMES:
        need(isinstance(o[k], (int, float)) and o[k] > 0, f"{k} = {o[k]!r} is not a positive number")
    need(abs(o["ingest_ratio_to_raw_insert"] - o["ingest_findings_per_s"] / o["raw_insert_findings_per_s"]) < 0.01,
         "ingest_ratio_to_raw_insert is not ingest / raw insert")
    need(o.get("page_load_peak_rss_mb") is None or 0 < o["page_load_peak_rss_mb"] <= o["peak_rss_mb"],
         "the page load's peak RSS is not within the run's")
    need(o["statistics_tables"] > 0, "the statistics job found no table to analyse after loading the estate")
    need(o["report_1000_ms_p50"] <= o["report_1000_ms_p99"], "report p50 above p99")
    need(o["search_cve_ms_p50"] <= o["search_cve_ms_p99"], "search p50 above p99")
    for a in ["admission_pod5", "admission_pod5_uncached"]:
        need(o[f"{a}_ms_p50"] <= o[f"{a}_ms_p99"], f"{a}: p50 above p99")
        need(o.get(f"{a}_uploads_during", 0) > 0, f"{a}: no report was uploaded while admission was measured")
    for p in PAGES:
        need(o[f"{p}_rps"] > 0, f"{p}: no answer under load")
        need(o[f"{p}_errors"] == 0, f"{p}: {o[f'{p}_errors']} answers under load were not 200")
        need(0 < o[f"{p}_ms_p50"] <= o[f"{p}_ms_p99"], f"{p}: p50 {o[f'{p}_ms_p50']} and p99 {o[f'{p}_ms_p99']}")
        if p != "static":
            r = o[f"{p}_ms_p99"] / o["static_ms_p99"]
            need(abs(o[f"{p}_p99_ratio_to_static"] - r) <= 0.01 * max(1, r), f"{p}: ratio is not p99 / static p99")
    want = PRESETS.get(o["preset"])
    if want:
        for k, v in want.items():
            need(o.get(k) == v, f"{k} = {o.get(k)} (the {o['preset']} preset has {v})")
    # The campaign is started before the measured uploads add more images with the same CVE.
    need(0 < o["campaign_images"] <= o.get("search_cve_images", 0),
         "the campaign covers affected images, no more than the search finds later")
    need(0 < o["campaign_near_10k_images"] <= o["campaign_images"], "the second campaign is wider than the widest")
    return problems


def main():
    backends = [json.loads(line) for line in sys.stdin if line.strip()]
    want = sys.argv[1:] or ["sqlite"]
    seen = [o.get("backend") for o in backends]
    failed = seen != want
    if failed:
        print(f"expected backends {want}, got {seen}")
    for o in backends:
        for p in check(o):
            failed = True
            print(f"{o.get('backend')}: {p}")
        print(f"{o.get('backend')}: {len(o)} figures checked")
    sys.exit(1 if failed else 0)


main()
