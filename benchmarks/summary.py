"""Write benchmarks/SUMMARY.md from the JSON files in benchmarks/results/ (run by `make bench`
after the benchmarks; each file says how it was measured)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks import compare

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def _load(name: str) -> Any:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _mmm(d: dict[str, float], unit: str = "") -> str:
    return f"{d['median']}{unit} (min {d['min']}, max {d['max']})"


def _e2e(e2e: dict[str, Any], title: str) -> list[str]:
    lines = [f"## End to end vs the naive loop, {title}", "",
             f"{e2e['outlets']} outlets x {e2e['articles_per_outlet']} new articles "
             f"(median page {e2e.get('page_bytes_median', '?'):,} bytes), shipped configuration "
             "(politeness on). Articles/s; CPU ms per article of the monitor's main process and "
             "of its workers.", "",
             "| latency | feed-monitor | naive loop | ratio | main CPU ms | workers CPU ms | "
             "peak PSS MiB |", "|---|---|---|---|---|---|---|"]
    for latency, r in e2e["latencies"].items():
        cpu = r["cpu_ms_per_article"]
        lines.append(f"| {latency} | {_mmm(r['monitor_articles_per_s'])} | "
                     f"{_mmm(r['naive_articles_per_s'])} | {r['ratio_to_naive']} | "
                     f"{cpu['main']['median']} | {cpu['workers']['median']} | "
                     f"{r['monitor_peak_pss_mib']['median']} |")
    if "cpu_floor_pages_per_s" in e2e:
        lines += ["", f"CPU floor (trafilatura.extract with the pipeline's options, 2 processes, "
                      f"measured before the first run and after each): "
                      f"{_mmm(e2e['cpu_floor_pages_per_s'], ' pages/s')}"
                      f", {e2e['cpu_floor_cpu_ms_per_page']['median']} CPU ms per page. "
                      f"feed-monitor at zero latency reaches "
                      f"**{_mmm(e2e['monitor_fraction_of_floor'])}** of it (each run against "
                      f"the mean of the floors measured before and after it); it spends "
                      f"{e2e['monitor_cpu_ms_per_article']['median']} CPU ms per article.", ""]
    if "default_floor_pages_per_s" in e2e:
        lines += [f"Default floor (trafilatura.extract with its default options, no metadata, "
                  f"measured next to it): {_mmm(e2e['default_floor_pages_per_s'], ' pages/s')}, "
                  f"{e2e['default_floor_cpu_ms_per_page']['median']} CPU ms per page; the "
                  f"monitor's CPU per article is {_mmm(e2e['monitor_cpu_to_default_floor'])} "
                  f"times it and its throughput "
                  f"{_mmm(e2e['monitor_fraction_of_default_floor'])} of it.", ""]
    return lines


def _metadata() -> list[str]:
    """Main's code (`before`) and metadata-only-when-needed (`after`), alternately in one
    session: results/e2e_cmp{,2}_{heavy,demo}_{before,after}.json."""
    lines = ["## Metadata only when the entry lacks it (issue 19), CPU ms per article", "",
             "`python -m benchmarks.e2e --repeats 1 --latencies 0 --pages KIND` on main's code "
             "and on the change, one after the other; the default floor is trafilatura.extract "
             "with its default options, measured in each run.", "",
             "| pages | run | load before | main | workers | all | default floor | ratio | "
             "fraction of its throughput |", "|---|---|---|---|---|---|---|---|---|"]
    for kind in ("heavy", "demo"):
        for session in ("e2e_cmp", "e2e_cmp2"):
            for side in ("before", "after"):
                r = _load(f"{session}_{kind}_{side}")
                if not r:
                    continue
                cpu = r["latencies"]["0ms"]["cpu_ms_per_article"]
                lines.append(
                    f"| {kind} | {side} ({session}) | {r['loadavg_before'][0]} | "
                    f"{cpu['main']['median']} | {cpu['workers']['median']} | "
                    f"{r['monitor_cpu_ms_per_article']['median']} | "
                    f"{r['default_floor_cpu_ms_per_page']['median']} | "
                    f"**{r['monitor_cpu_to_default_floor']['median']}** | "
                    f"{r['monitor_fraction_of_default_floor']['median']} |")
    return [*lines, ""] if len(lines) > 6 else []


def _nodelay(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The end-to-end figures before and after the test servers stopped stalling (issue 19)."""
    load = after.get("load_average")
    lines = ["## Before and after the Nagle stall, pages of real weight", "",
             "Before: `results/e2e_before_nodelay.json`, measured while every test server "
             "(the simulator included) sent headers and body as separate segments with Nagle's "
             "algorithm on, so each keep-alive response could wait for the client's delayed "
             "ACK (about 40 ms). After: `results/e2e.json`, the same benchmark with "
             "`disable_nagle_algorithm = True` and nothing else changed in the harness "
             f"(`{after.get('command', 'python -m benchmarks.e2e')}`). Articles/s, medians "
             "with min and max; each ratio is taken within its own run.", "",
             "| latency | monitor before | naive before | ratio before | monitor after | "
             "naive after | ratio after |", "|---|---|---|---|---|---|---|"]
    for latency, a in after["latencies"].items():
        b = before["latencies"].get(latency)
        if b is None:
            continue
        lines.append(f"| {latency} | {_mmm(b['monitor_articles_per_s'])} | "
                     f"{_mmm(b['naive_articles_per_s'])} | {b['ratio_to_naive']} | "
                     f"{_mmm(a['monitor_articles_per_s'])} | "
                     f"{_mmm(a['naive_articles_per_s'])} | {a['ratio_to_naive']} |")
    if "monitor_fraction_of_floor" in before and "monitor_fraction_of_floor" in after:
        lines += ["", f"Fraction of the CPU floor at zero latency: before "
                      f"{_mmm(before['monitor_fraction_of_floor'])}, after "
                      f"{_mmm(after['monitor_fraction_of_floor'])}. CPU ms per article (all "
                      f"processes of the monitor): before "
                      f"{before['monitor_cpu_ms_per_article']['median']}, after "
                      f"{after['monitor_cpu_ms_per_article']['median']}; CPU floor "
                      f"{before['cpu_floor_cpu_ms_per_page']['median']} -> "
                      f"{after['cpu_floor_cpu_ms_per_page']['median']} CPU ms per page."]
    note = after.get("comparison_note")
    if note:
        lines += ["", note]
    if load:
        lines += ["", f"Load average (1 min) during the after run, sampled every 10 s: "
                      f"{_mmm(load)} on 2 cores; {load.get('note', '')}".rstrip()]
    return [*lines, ""]


def _scale(r: dict[str, Any]) -> list[str]:
    """benchmarks/scale.py: the phases, memory, capacity and the targets of issue 19."""
    lines = [f"## Scale: {r['benchmark'].split(': ', 1)[1]}", "",
             f"`{r['command']}` ({r['run_minutes']} min; load average "
             f"{r['loadavg_before'][0]:.1f} before, {r['loadavg_after'][0]:.1f} after, 2 cores). "
             "CPU of all the monitor's processes (main, forkserver, workers); the feed servers "
             "run in their own processes and their CPU is shown apart.", "",
             "| phase | wall s | CPU s (all) | main CPU s | servers CPU s | DB growth KiB |",
             "|---|---|---|---|---|---|"]
    for phase in ("304", "known", "new_1pct"):
        if phase in r:
            p = r[phase]
            servers = "+".join(str(x) for x in p["server_cpu_s_per_process"][0])
            lines.append(f"| {phase} | {_mmm(p['wall_s'])} | {_mmm(p['cpu_s'])} | "
                         f"{p['main_cpu_s']['median']} | {servers} | "
                         f"{round(p['db_growth_bytes']['median'] / 1024)} |")
    cap = r.get("capacity", {})
    db = cap.get("database", {})
    lines += ["", f"Memory: peak PSS of main + forkserver + workers {r['peak_pss_mib']} MiB, "
                  f"main process peak RSS {r['max_rss_mib']} MiB."]
    if db:
        lines.append(f"Database: {db['after_first_fill_mib']} MiB after the first fill, "
                     f"{db['growth_per_cycle_mib']} MiB per 1 % cycle, "
                     f"{db['growth_per_day_mib']} MiB per day, "
                     f"{db['after_simulated_week_mib']} MiB after a simulated week "
                     f"({db['method']}).")
    if cap:
        lines.append(f"Largest source count at a 15-minute interval: "
                     f"**{cap['largest_source_count']:,}** ({cap['polls_per_hour']:,} polls/h), "
                     f"limited by {cap['limited_by']}; the others: " + "; ".join(
                         f"{k}: {v:,}" for k, v in cap["sources_sustained_by"].items()) + ".")
    for name, (value, target, met) in r.get("targets", {}).items():
        lines.append(f"- {name.replace('_', ' ')}: {value} (target {target}): "
                     f"**{'met' if met else 'not met'}**")
    return [*lines, ""]


def _fixes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The same scale run on the code before and after the polling fixes of issue 19."""
    lines = ["## Polling fixes at scale: before and after", "",
             f"`{after['command']}`, run on {before['code']} and then on {after['code']}, one "
             f"after the other (load average {before['loadavg_before'][0]:.1f} and "
             f"{after['loadavg_before'][0]:.1f} at their starts, 2 cores). CPU s per cycle of "
             "all the monitor's processes; the feed server's CPU apart.", "",
             "| phase | CPU s before | CPU s after | ratio | server CPU s before | after |",
             "|---|---|---|---|---|---|"]
    for phase in ("304", "new_1pct"):
        b, a = before[phase], after[phase]
        lines.append(f"| {phase} | {_mmm(b['cpu_s'])} | {_mmm(a['cpu_s'])} | "
                     f"{a['cpu_s']['median'] / b['cpu_s']['median']:.2f} | "
                     f"{sum(b['server_cpu_s_per_process'][0])} | "
                     f"{sum(a['server_cpu_s_per_process'][0])} |")
    return [*lines, ""]


def _ms(t: dict[str, float]) -> str:
    return f"{t['median_ms']} ({t['min_ms']}-{t['max_ms']})"


def _search_1m(r: dict[str, Any]) -> list[str]:
    lines = [f"## Search at {r['items']:,} items (`{r['command_line']}`)", "",
             f"Database {r['database_mib']:,} MiB, filled in {r['fill_seconds']} s. Storage "
             "query (top 20) and the whole `monitor search` command in-process, ms:", "",
             "| query | items | storage query | monitor search |", "|---|---|---|---|"]
    df = r["document_frequency"]
    for q, t in [*r["selective"].items(), ("iran", r["most_common_iran"])]:
        n, c = df.get(q.strip('"')), r["command"].get(q)
        lines.append(f"| `{q}` | {f'{n:,}' if n is not None else ''} | {_ms(t)} | "
                     f"{_ms(c) if c else ''} |")
    every = r.get("most_common_iran_every_match_ranked")
    if every:
        lines += ["", f"`iran` with every match ranked (no window of {r['rank_window']:,}), "
                      f"same run: {_ms(every)} ms."]
    lines.append(f"Load average during the run: {r['loadavg'][0]:.1f} (1 min), "
                 f"{r['loadavg'][1]:.1f} (5 min) on 2 cores.")
    b = r["bound"]
    lines += ["", f"Query bound (SEARCH_SECONDS = {b['search_seconds']} s): " + "; ".join(
        f"`{k}` raised after {v['median_s']} s (min {v['min_s']}, max {v['max_s']}, stopped "
        f"{v['stopped']})" for k, v in b.items() if isinstance(v, dict) and "median_s" in v)
        + f"; a 5,000-term query refused in {b['or_5000_terms_refused']['ms']} ms.", ""]
    return lines


def main() -> None:
    lines = ["# Benchmark summary", "",
             "Generated by `python -m benchmarks.summary` from `benchmarks/results/*.json`. "
             "Medians with min and max; ratios are taken within one run. The machine has 2 "
             "cores and is shared: compare ratios, not absolute times.", ""]
    heavy = _load("e2e")
    if heavy and "100ms" in heavy["latencies"] and "monitor_fraction_of_floor" in heavy:
        ratios = [r["ratio_to_naive"] for r in heavy["latencies"].values()]
        at_100 = heavy["latencies"]["100ms"]["ratio_to_naive"]
        fraction = heavy["monitor_fraction_of_floor"]["median"]
        lines += ["## Targets (issue 8), pages of real weight", "",
                  f"- >= 5x the naive loop at 100 ms, rising with latency: {at_100}x at 100 ms; "
                  f"{' -> '.join(str(r) for r in ratios)} over "
                  f"{', '.join(heavy['latencies'])}: "
                  f"**{'met' if at_100 >= 5 and ratios == sorted(ratios) else 'not met'}**",
                  f"- >= 0.7 of the CPU floor at zero latency: {fraction}: "
                  f"**{'met' if fraction >= 0.7 else 'not met'}**", ""]
    lines += ["## Every headline figure, before and after", "",
              "Before: the committed results of the run before the Nagle stall was removed "
              "(`results/before/`, e2e from `results/e2e_before_nodelay.json`); after: the "
              "current `results/`. Medians (min-max); the ratio is of the medians, taken across "
              "two runs on a shared machine, so read it with the load averages in each section.",
              "", *compare.rows(), ""]
    before = _load("e2e_before_nodelay")
    if heavy and before:
        lines += _nodelay(before, heavy)
    for name, title in (("e2e", "pages of real weight"), ("e2e_demo", "the demo's small pages")):
        e2e = _load(name)
        if e2e:
            lines += _e2e(e2e, title)
    lines += _metadata()
    memory = _load("memory")
    if memory:
        last, first = memory["after_last_round"], memory["after_first_round"]
        lines += ["## Memory over 10,000 articles", "",
                  f"{memory['articles']:,} articles in {memory['rounds']} rounds "
                  f"({memory['seconds']} s). PSS of the monitor with its forkserver and workers: "
                  f"peak {memory['peak_pss_mib']} MiB; {first['pss_mib']} MiB after the first "
                  f"round, {last['pss_mib']} MiB after the last "
                  f"({memory['growth_first_to_last']:+.1%}); main process RSS "
                  f"{first['main_rss_mib']} -> {last['main_rss_mib']} MiB.", ""]
    extraction = _load("extraction")
    if extraction:
        kind = extraction.get("page_kind", "demo")
        lines += [f"## Extraction worker pool (pages/s, {kind} pages)", "",
                  f"In-process {_mmm(extraction['in_process_baseline'])}; pool of 1 "
                  f"{_mmm(extraction['pool_1_worker'])}; pool of 2 "
                  f"{_mmm(extraction['pool_2_workers'])}; ratio 2 workers to in-process "
                  f"{extraction['ratio_pool_2_to_baseline']}.", ""]
    for kind in ("heavy", "demo"):
        for fields in ("all", "none"):
            ex = _load(f"extraction_{kind}_{fields}")
            if ex:
                lines += [f"- {kind} pages, metadata for {fields}: extraction "
                          f"{_mmm(ex['in_process_cpu_ms_per_page'])} CPU ms per page in "
                          f"process, trafilatura.extract with default options "
                          f"{_mmm(ex['default_floor_cpu_ms_per_page'])}: ratio "
                          f"**{ex['ratio_cpu_to_default_floor']}** (load "
                          f"{ex['loadavg_before'][0]})."]
    lines.append("")
    steady = _load("steady_state")
    if steady:
        lines += ["## Steady state, 1000 sources (one cycle)", "",
                  "| phase | wall s | CPU s |", "|---|---|---|"]
        for phase in ("304", "same", "known", "new"):
            if phase in steady:
                lines.append(f"| {phase} | {_mmm(steady[phase]['wall_s'])} | "
                             f"{_mmm(steady[phase]['cpu_s'])} |")
        lines.append("")
    for name in ("scale", "scale_2000"):
        scale = _load(name)
        if scale:
            lines += _scale(scale)
    before_fixes, after_fixes = _load("scale_fixes_before"), _load("scale_fixes_after")
    if before_fixes and after_fixes:
        lines += _fixes(before_fixes, after_fixes)
    for name in ("search_1m",):
        big = _load(name)
        if big:
            lines += _search_1m(big)
    dedup = _load("dedup_index")
    if dedup:
        lines += ["## Dedup lookup + insert per item", "", "| stored | ms per item | ratio | "
                  "bytes per item |", "|---|---|---|---|"]
        for r in dedup["results"]:
            lines.append(f"| {r['stored_items']:,} | {_mmm(r['per_item_ms'])} | "
                         f"{r.get('ratio_to_first', '')} | {r['index_bytes_per_item']} |")
        lines.append("")
    cost = _load("verify_cost")
    if cost:
        lines += ["## Story assignment in the main process (`benchmarks.verify_cost`)", "",
                  f"{_mmm(cost['cpu_ms_per_item'])} CPU ms per item over {cost['items']} heavy "
                  f"benchmark texts ({cost['joined']} joined a story), exact verification "
                  "included.", ""]
    pair = _load("e2e_verify")
    if pair:
        cpu, loads = pair["main_cpu_ms_per_article"], [r["load_average_at_start"] for r in
                                                       pair["runs"]]
        lines += [f"Main-process CPU per article end to end (`{pair['command']}`, runs in the "
                  f"order {', '.join(pair['order'])}; load averages {'; '.join(loads)}): main's "
                  f"code {_mmm(cpu['base'])}, this code {_mmm(cpu['new'])} "
                  f"({pair['main_ratio_new_to_base']}x), with no exact check at all "
                  f"{_mmm(cpu['nover'])}.", ""]
    search = _load("search")
    if search:
        lines += ["## Search at 100k items (ms, top 20 with snippets)", ""]
        for q, r in search["selective"].items():
            lines.append(f"- `{q}`: {r['median_ms']} (min {r['min_ms']}, max {r['max_ms']})")
        r = search["most_common_iran"]
        lines.append(f"- `iran` (in {search['document_frequency']['iran']:,} items): "
                     f"{r['median_ms']} (min {r['min_ms']}, max {r['max_ms']})")
        ex = search["export"]
        lines += ["", f"Export stream: Python peak {ex['python_peak_mib']} MiB for "
                      f"{ex['items']:,} items, {ex['python_peak_mib_at_one_tenth']} MiB for "
                      f"{ex['items_at_one_tenth']:,}.", ""]
    web = _load("web")
    if web:
        lines += [f"## The reader's pages at {web['items']:,} items ({web['stories']:,} stories; "
                  "ms per request over HTTP)", ""]
        for page, r in web["pages"].items():
            lines.append(f"- {page.replace('_', ' ')}: {r['median_ms']} (min {r['min_ms']}, "
                         f"max {r['max_ms']})")
        lines += ["", f"Target: median <= {web['target_median_ms']:g} ms for the story list, a "
                      f"story page and a search: {'met' if web['within_target'] else 'missed'}.",
                  ""]
    latency = _load("alert_latency")
    if latency:
        lines += ["## Alert latency (daemon defaults)", "",
                  f"Median {latency['median']} s, min {latency['min']}, max {latency['max']}, "
                  f"bound {latency['bound_s']} s (poll interval {latency['poll_interval_s']} s "
                  f"+ 5 s); {latency['received']} received.", ""]
    soak = _load("soak")
    if soak:
        lines += ["## Soak", "",
                  f"{soak['minutes']} minutes, {soak['sources']} sources, {soak['cycles']} "
                  f"cycles: RSS {soak['rss_mib_warm_median']} MiB warm, "
                  f"{soak['rss_mib_last_median']} MiB at the end ({soak['growth_pct']}%), "
                  f"range {soak['rss_mib_min']}-{soak['rss_mib_max']} MiB.", ""]
    profile = RESULTS / "e2e_profile.txt"
    if profile.exists():
        lines += ["## Profile of one feed-monitor run at zero latency (pyinstrument, main "
                  "process; the workers' share is in the CPU columns above)", "", "```",
                  *profile.read_text().strip().splitlines()[:60], "```", ""]
    (HERE / "SUMMARY.md").write_text("\n".join(lines) + "\n")
    print((HERE / "SUMMARY.md").read_text())


if __name__ == "__main__":
    main()
