"""The static leaderboard site (``gauntlet leaderboard site --out DIR``), built from the board
files only: an index of the tasks and one page per task.

A task page has the ranked policies with every metric's IQM (the mean for proportions) and its
95% CI, the feasibility column on constrained tasks, the bounds in their own table (never
ranked), a chart of the primary metric with its CIs, the learning curves of entries whose runs
record them, the Pareto fronts of multi-objective entries, and each run's provenance (command,
commit, weights sha256). Tables sort by any column on a click, or on load from the address
(``page.html#sort=<column>``, best first for a metric), so a sorted view can be linked. Figures
are matplotlib PNGs next to the pages. The ranking shows each entry's verification
(``gauntlet leaderboard verify``) when it has one.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Sequence

from gauntlet.bench.formatting import MISSING, format_interval, format_mean_std, format_number
from gauntlet.bench.ranking import (
    bound_metrics,
    bounds,
    feasibility,
    interval,
    interval_label,
    is_constrained,
    ranked,
    violation,
)
from gauntlet.bench.runner import MAX_CURVE_POINTS

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
td.text, th.text { text-align: left; }
th { background: #f0f0f0; cursor: pointer; text-align: left; }
th.sorted { background: #d8e6f5; }
code { font-size: 0.85em; }
img { max-width: 100%; border: 1px solid #eee; }
img[data-loaded="no"] { outline: 3px solid red; }
.note { color: #555; font-size: 0.9em; }
"""

# Sorting reads each cell's data-sort (a number where the cell shows one) so "1,137 [..]" sorts
# by 1137; a metric column sorts best first (its data-dir). Images that fail to load are marked,
# which a reader sees (red outline) and a headless browser check can read from the DOM.
_SCRIPT = """
function sortTable(th, descending) {
  const table = th.closest('table'), body = table.tBodies[0];
  const col = Array.from(th.parentNode.children).indexOf(th);
  const key = td => { const v = td.dataset.sort ?? td.textContent;
                      const n = parseFloat(v); return isNaN(n) ? v : n; };
  const rows = Array.from(body.rows);
  rows.sort((a, b) => { const x = key(a.cells[col]), y = key(b.cells[col]);
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;  // missing values last
    const c = x < y ? -1 : x > y ? 1 : 0;
    return descending ? -c : c; });
  rows.forEach(r => body.appendChild(r));
  table.querySelectorAll('th').forEach(h => h.classList.remove('sorted'));
  th.classList.add('sorted');
  table.dataset.sortedBy = th.dataset.key;
}
document.querySelectorAll('table.sortable th').forEach(th => th.addEventListener('click', () => {
  const desc = th.dataset.desc !== 'true'; th.dataset.desc = desc; sortTable(th, desc); }));
const wanted = new URLSearchParams(location.hash.slice(1)).get('sort');
if (wanted) document.querySelectorAll(`table.sortable th[data-key="${CSS.escape(wanted)}"]`)
  .forEach(th => sortTable(th, th.dataset.dir === 'max'));
window.addEventListener('load', () => document.querySelectorAll('img').forEach(img =>
  img.dataset.loaded = img.complete && img.naturalWidth > 0 ? 'yes' : 'no'));
"""


def page_name(task_id: str) -> str:
    """``gauntlet/LotSizing-15x5-v0`` -> ``LotSizing-15x5-v0.html``."""
    return task_id.split("/", 1)[-1] + ".html"


def build_site(boards: Sequence[dict[str, Any]], out: str | Path) -> list[Path]:
    """Write ``index.html``, one page per board and its figures into ``out``; the pages written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    boards = sorted(boards, key=lambda b: b["task"])
    pages = [out / "index.html"]
    pages[0].write_text(_document("Gauntlet leaderboards", _index_body(boards)))
    for board in boards:
        path = out / page_name(board["task"])
        path.write_text(_document(board["task"], _task_body(board, out)))
        pages.append(path)
    return pages


# --------------------------------------------------------------------------- pages
def _document(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n{body}\n<script>{_SCRIPT}</script>\n</body></html>\n")


def _index_body(boards: Sequence[dict[str, Any]]) -> str:
    header = [("task", "task", None), ("primary metric", "primary", None), ("leader", "leader", None),
              ("leader's value", "value", None), ("entries", "entries", None), ("bounds", "bounds", None)]
    rows = []
    for board in boards:
        primary = _primary(board)
        leaders = ranked(board)
        best = leaders[0] if leaders else None
        value, ci = interval(best["results"].get(primary["name"], {}), primary) if best else (None, None)
        rows.append([
            _cell(f'<a href="{_e(page_name(board["task"]))}">{_e(board["task"])}</a>', board["task"], text=True),
            _cell(_e(f'{primary["name"]} ({_better(primary)})'), primary["name"], text=True),
            _cell(_e(best["agent"]) if best else MISSING, best["agent"] if best else "", text=True),
            _cell(_e(format_interval(value, ci)), value),
            _cell(str(len(leaders)), len(leaders)),
            _cell(str(len(bounds(board))), len(bounds(board))),
        ])
    return (f"<h1>Gauntlet leaderboards</h1>\n<p class=\"note\">{len(boards)} tasks, built from the board files "
            "(<code>leaderboards/*.json</code>) only. The leader is the best-ranked policy: within every "
            "constraint budget first on constrained tasks, then by the primary metric; bounds are never "
            "ranked.</p>\n" + _table("tasks", header, rows))


def _task_body(board: dict[str, Any], out: Path) -> str:
    prot = board["protocol"]
    primary = _primary(board)
    parts = [f"<p><a href=\"index.html\">all tasks</a></p><h1>{_e(board['task'])}</h1>", _protocol_html(board)]
    parts.append("<h2>Ranking</h2>" + _ranking_table(board))
    if bounds(board):
        parts.append("<h2>Bounds</h2><p class=\"note\">Not policies: shown beside the board, never ranked.</p>"
                     + _bounds_table(board))
    stem = page_name(board["task"])[: -len(".html")]
    if ranked(board):
        from gauntlet.bench.site_figures import primary_chart

        name = f"{stem}-{prot['primary_metric']}.png"
        primary_chart(board, out / name)
        parts.append(f"<h2>{_e(primary['name'])}</h2><img src=\"{_e(name)}\" alt=\"{_e(primary['name'])} "
                     f"{_e(interval_label(primary))} per policy\">")
    from gauntlet.bench.site_figures import curves_chart, has_curves

    if any(has_curves(e) for e in board["entries"]):
        name = f"{stem}-curves.png"
        curves_chart(board, out / name)
        parts.append(f"<h2>Learning curves</h2><p class=\"note\">Return of the training episodes against the "
                     "training timesteps: per entry, the mean over its runs that record a curve (at most "
                     f"{MAX_CURVE_POINTS} episodes each), interpolated at common timesteps, ± the sample std "
                     f"across runs.</p><img src=\"{_e(name)}\" alt=\"learning curves per entry\">")
    if any(e.get("front") for e in board["entries"]):
        from gauntlet.bench.site_figures import pareto_chart

        name = f"{stem}-pareto.png"
        pareto_chart(board, out / name)
        parts.append(f"<h2>Pareto fronts</h2><img src=\"{_e(name)}\" alt=\"Pareto fronts per entry\">")
    parts.append("<h2>Provenance</h2>" + _provenance_table(board))
    return "\n".join(parts)


def _protocol_html(board: dict[str, Any]) -> str:
    prot = board["protocol"]
    primary = _primary(board)
    items = [
        f"primary metric <b>{_e(primary['name'])}</b> ({_better(primary)})",
        f"training seeds {_e(_seeds(prot['train_seeds']))}",
        f"evaluation seeds {_e(_seeds(prot['eval_seeds']))}, {prot['eval_episodes']} episode(s), "
        f"{'deterministic' if prot['deterministic'] else 'stochastic'} policy",
    ]
    items += [f"constraint: mean {_e(c['metric'])} within budget {_e(format_number(c['budget']))}"
              for c in prot["constraints"]]
    if "reference_scores" in prot:
        ref = prot["reference_scores"]
        items.append(f"normalized score: {format_number(ref['random'])} = 0, {format_number(ref['best'])} = 1")
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _ranking_table(board: dict[str, Any]) -> str:
    metrics = board["protocol"]["metrics"]
    constrained = is_constrained(board)
    header = [("#", "rank", None), ("agent", "agent", None), ("kind", "kind", None), ("submitter", "submitter", None)]
    if constrained:
        header.append(("feasible", "feasible", None))
    header += [(f"{m['name']} {interval_label(m)}", m["name"], m["direction"]) for m in metrics]
    header += [("normalized", "normalized", "max"), ("train steps", "train_timesteps", None), ("runs", "runs", None),
               ("verified", "verified", None)]
    rows = []
    for rank, entry in enumerate(ranked(board), 1):
        row = [_cell(str(rank), rank), _cell(_e(entry["agent"]), entry["agent"], text=True),
               _cell(entry["kind"], entry["kind"], text=True), _cell(_e(entry["submitter"]), entry["submitter"], text=True)]
        if constrained:
            row.append(_cell(_e(feasibility(board, entry)), violation(board, entry), text=True))
        for m in metrics:
            value, ci = interval(entry["results"].get(m["name"], {}), m)
            row.append(_cell(_e(format_interval(value, ci)), value))
        row += [_cell(format_number(entry.get("normalized_score")), entry.get("normalized_score")),
                _cell(format_number(entry["config"]["train_timesteps"]), entry["config"]["train_timesteps"]),
                _cell(str(len(entry["runs"])), len(entry["runs"])), _verified_cell(entry)]
        rows.append(row)
    return _table("ranking", header, rows)


def _verified_cell(entry: dict[str, Any]) -> str:
    """``gauntlet leaderboard verify``'s outcome: status, mode, date and the seeds it re-ran."""
    record = entry.get("verification")
    if record is None:
        return _cell(MISSING, "", text=True)
    seeds = ", ".join(str(r["train_seed"]) for r in record["runs"])
    text = f"{record['status']} ({record['mode']}, seeds {seeds}, {record['created'][:10]})"
    return _cell(_e(text), record["status"], text=True)


def _bounds_table(board: dict[str, Any]) -> str:
    names = bound_metrics(board)
    header = [("agent", "agent", None), ("submitter", "submitter", None),
              *[(f"{n} mean ± std", n, None) for n in names], ("runs", "runs", None)]
    rows = []
    for entry in bounds(board):
        stats = [entry["results"].get(n, {}) for n in names]
        rows.append([_cell(_e(entry["agent"]), entry["agent"], text=True), _cell(_e(entry["submitter"]), entry["submitter"], text=True),
                     *[_cell(_e(format_mean_std(s.get("mean"), s.get("std"))), s.get("mean")) for s in stats],
                     _cell(str(len(entry["runs"])), len(entry["runs"]))])
    return _table("bounds", header, rows)


def _provenance_table(board: dict[str, Any]) -> str:
    header = [("agent", "agent", None), ("submitter", "submitter", None), ("seed", "seed", None),
              ("command", "command", None), ("commit", "commit", None), ("weights sha256", "weights", None),
              ("entry sha256", "entry", None)]
    rows = []
    for entry in board["entries"]:
        for run in entry["runs"]:
            prov = run["provenance"]
            rows.append([_cell(_e(entry["agent"]), entry["agent"], text=True),
                         _cell(_e(entry["submitter"]), entry["submitter"], text=True),
                         _cell(str(run["train_seed"]), run["train_seed"]),
                         _cell(f"<code>{_e(prov['command'])}</code>", prov["command"], text=True),
                         _cell(f"<code>{_e((prov['git_commit'] or MISSING)[:12])}</code>", prov["git_commit"] or "", text=True),
                         _cell(f"<code>{_e(run['artifact_sha256'] or MISSING)}</code>", run["artifact_sha256"] or "", text=True),
                         _cell(f"<code>{_e(entry['sha256'][:16])}</code>", entry["sha256"], text=True)])
    return _table("provenance", header, rows)


# ------------------------------------------------------------------------- helpers
def _table(name: str, header: Sequence[tuple[str, str, str | None]], rows: Sequence[Sequence[str]]) -> str:
    heads = "".join(
        f'<th data-key="{_e(key)}"{f" data-dir={chr(34)}{direction}{chr(34)}" if direction else ""}>{_e(label)}</th>'
        for label, key, direction in header)
    body = "".join("<tr>" + "".join(row) + "</tr>\n" for row in rows)
    return f'<table class="sortable" id="{name}"><thead><tr>{heads}</tr></thead>\n<tbody>\n{body}</tbody></table>'


def _cell(content: str, sort_value: Any, *, text: bool = False) -> str:
    """A cell whose sort key is ``sort_value`` (missing numbers sort last as "")."""
    key = "" if sort_value is None else (repr(float(sort_value)) if isinstance(sort_value, (int, float)) else str(sort_value))
    return f'<td{" class=text" if text else ""} data-sort="{_e(key)}">{content}</td>'


def _primary(board: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in board["protocol"]["metrics"] if m["name"] == board["protocol"]["primary_metric"])


def _better(metric: dict[str, Any]) -> str:
    return "higher is better" if metric["direction"] == "max" else "lower is better"


def _seeds(seeds: Sequence[int]) -> str:
    if seeds and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        return f"{seeds[0]}..{seeds[-1]}"
    return ", ".join(map(str, seeds)) or MISSING


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
