#!/usr/bin/env python3
"""drydock-bench's JSON lines (stdin) as the Markdown tables BENCHMARKS.md shows, one column per
backend: `drydock-bench ... | tee figures.jsonl | python3 server/benches/bench-table.py`."""
import json
import sys

rows = [json.loads(l) for l in sys.stdin if l.strip()]
cols = [f"{r['backend']} ({r['preset']})" for r in rows]


def table(title, keys):
    print(f"\n| {title} | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for k, label in keys:
        print(f"| {label} | " + " | ".join(str(r.get(k)) for r in rows) + " |")


table("estate", [("teams", "teams"), ("images", "images"), ("findings", "findings"), ("clusters", "clusters"),
                 ("pods", "pods"), ("containers", "containers"), ("ledger_entries", "ledger entries")])
table("writes and jobs", [("ingest_findings_per_s", "ingest through the API, findings/s"),
                          ("raw_insert_findings_per_s", "raw multi-row insert of the same rows, findings/s"),
                          ("ingest_ratio_to_raw_insert", "ingest / raw insert"),
                          ("report_1000_ms_p50", "a 1,000-finding report, upload to commit, p50 ms"),
                          ("report_1000_ms_p99", "the same, p99 ms"),
                          ("grype_1509_ms_p50", "Grype's 1,509-finding report, p50 ms"),
                          ("campaign_10k_ms", "campaign over every affected image, ms"),
                          ("campaign_images", "… images in it"),
                          ("campaign_near_10k_ms", "campaign over the CVE nearest 10,000 images, ms"),
                          ("campaign_near_10k_images", "… images in it"),
                          ("first_evaluation_s", "first policy evaluation (every result written), s"),
                          ("reevaluate_s", "full policy re-evaluation (what changed written), s"),
                          ("statistics_s", "planner statistics gathered after the day's writes, s"),
                          ("statistics_tables", "… tables analysed"),
                          ("ledger_appends_per_s", "ledger appends/s"),
                          ("ledger_verify_s_per_million", "ledger verify, s per million entries"),
                          ("proof_ms_p50", "inclusion proof p50, ms"),
                          ("peak_rss_mb", "peak RSS over the run, MB (server and bench in one process)"),
                          ("page_load_peak_rss_mb", "peak RSS under the page load, MB")])
table("search, one request at a time", [("search_cve_images", "images matching the CVE"),
                                        ("search_cve_cold_ms", "CVE search, first after a change, ms"),
                                        ("search_cve_ms_p50", "CVE search p50, ms"), ("search_cve_ms_p99", "CVE search p99, ms"),
                                        ("search_range_images", "images matching the range"),
                                        ("search_range_ms_p50", "package range search p50, ms")])
keys = []
for p, label in [("static", "static file"), ("healthz", "/healthz"), ("overview", "/ overview"), ("team", "team page"),
                 ("scorecard", "team scorecard"), ("search", "search page"), ("search_api", "search API")]:
    keys += [(f"{p}_first_ms", f"{label} first request (renders), ms"), (f"{p}_ms_p50", f"{label} p50 ms"), (f"{p}_ms_p99", f"{label} p99 ms"), (f"{p}_rps", f"{label} req/s")]
    if p != "static":
        keys.append((f"{p}_p99_ratio_to_static", f"{label} p99 / static p99"))
    keys.append((f"{p}_errors", f"{label} non-200 answers"))
table("64 connections", keys)
