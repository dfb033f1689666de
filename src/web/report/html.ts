/**
 * The report as one self-contained HTML page: uPlot's script and CSS
 * inlined, the chart data in a `<script type="application/json">` block,
 * tables and samples rendered here. Every text that comes from the run's
 * files is HTML-escaped (and the JSON block has `<`, `>`, `&` escaped), and a
 * Content-Security-Policy allows only the page's own two scripts (by hash)
 * and no network at all, so neither a crafted sample nor a stray URL can run
 * code or reach out.
 *
 * @example
 * const data = readRunData("runs/demo");
 * const html = renderReportHtml(data, buildCharts(data), loadPlotAssets(), { generatedAt: new Date() });
 */
import { createHash } from "node:crypto";
import { formatMetric } from "../../train/metrics-log.js";
import type { PlotAssets } from "./assets.js";
import type { ChartData } from "./charts.js";
import type { RunReportData, SampleGroup } from "./run-data.js";
import { runTitle } from "./run-data.js";

export interface RenderOptions {
  generatedAt: Date;
  /** Page title; default the run folder's name. */
  title?: string;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a `<script>` element (no `</script>`, no `<!--`, no line separators). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Draws every chart of the JSON block with uPlot; static, so its hash can go in the CSP. */
const CHART_SCRIPT = `(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
  var grid = document.getElementById("charts");
  function tick(v) {
    if (v === null) return "";
    var a = Math.abs(v);
    return a !== 0 && (a < 1e-2 || a >= 1e5) ? v.toExponential(1) : String(Number(v.toPrecision(4)));
  }
  data.charts.forEach(function (chart) {
    var box = document.createElement("figure");
    box.className = "chart";
    box.id = "chart-" + chart.id;
    var caption = document.createElement("figcaption");
    caption.textContent = chart.title;
    box.appendChild(caption);
    grid.appendChild(box);
    var series = [{ label: chart.xLabel }];
    chart.series.forEach(function (s, i) {
      var one = { label: s.label, stroke: colors[i % colors.length], width: 2, spanGaps: true, points: { show: chart.x.length <= 40 } };
      if (s.dashed) one.dash = [6, 4];
      series.push(one);
    });
    var columns = [chart.x].concat(chart.series.map(function (s) { return s.values; }));
    var axes = [{ label: chart.xLabel }, { size: 60, values: function (u, splits) { return splits.map(tick); } }];
    new uPlot({ width: 560, height: 260, series: series, legend: { live: false }, scales: { x: { time: false } }, axes: axes }, columns, box);
  });
  document.body.setAttribute("data-charts-drawn", String(data.charts.length));
})();`;

const PAGE_CSS = `body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:1200px}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#666}.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{margin:0;border:1px solid #eee;padding:.5rem}
figcaption{font-weight:600;margin-bottom:.25rem}table{border-collapse:collapse;font-size:.9rem}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;margin:0;font-family:ui-monospace,monospace}.sample{margin-bottom:1rem}
.problems{color:#a00}.kv{display:grid;grid-template-columns:repeat(3,max-content minmax(8rem,max-content));gap:.15rem .75rem;font-size:.85rem}
.kv .k{font-weight:600}.kv .v{font-family:ui-monospace,monospace;overflow-wrap:anywhere;max-width:22rem}ol.responses li{margin-bottom:.25rem}.score{color:#666;font-size:.85rem}`;

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

function cell(value: unknown): string {
  if (typeof value === "number") return escapeHtml(formatMetric(value));
  if (value === null) return "null";
  return escapeHtml(typeof value === "string" ? value : JSON.stringify(value));
}

/** Key-value pairs in a grid of up to three pairs per row (a run has some forty settings). */
function keyValueGrid(entries: [string, unknown][], id: string): string {
  const pairs = entries.map(([k, v]) => `<span class="k">${escapeHtml(k)}</span><span class="v">${cell(v)}</span>`).join("\n");
  return `<div class="kv" id="${id}">\n${pairs}\n</div>`;
}

function roundsSection(data: RunReportData): string {
  if (data.rounds.length === 0) return "";
  const keys = [...new Set(data.rounds.flatMap((r) => Object.keys(r.metrics)))];
  const head = `<tr><th>round</th>${keys.map((k) => `<th>${escapeHtml(k)}</th>`).join("")}</tr>`;
  const rows = data.rounds.map(
    (r) => `<tr><td>${r.round}</td>${keys.map((k) => `<td>${k in r.metrics ? cell(r.metrics[k]) : ""}</td>`).join("")}</tr>`,
  );
  return `<h2>Evaluation per round</h2>\n<table id="rounds">\n${head}\n${rows.join("\n")}\n</table>`;
}

function summarySection(summary: unknown): string {
  if (summary === null) return "";
  const body =
    typeof summary === "object" && !Array.isArray(summary)
      ? keyValueGrid(Object.entries(summary as Record<string, unknown>), "summary")
      : `<pre id="summary">${escapeHtml(JSON.stringify(summary, null, 2))}</pre>`;
  return `<h2>Summary</h2>\n${body}`;
}

function sampleGroup(group: SampleGroup): string {
  const records = group.records.map((r) => {
    const responses = r.responses.map((text, i) => {
      const score = r.scores?.[i];
      const scoreText = typeof score === "number" ? ` <span class="score">score ${escapeHtml(formatMetric(score))}</span>` : "";
      return `<li><pre>${escapeHtml(text)}</pre>${scoreText}</li>`;
    });
    return `<div class="sample"><strong>Query</strong><pre>${escapeHtml(r.query)}</pre>\n<ol class="responses">${responses.join("")}</ol></div>`;
  });
  const shown = `${group.records.length} of ${group.total}`;
  return `<h3>${escapeHtml(group.source)} <span class="meta">(${shown})</span></h3>\n${records.join("\n")}`;
}

function samplesSection(data: RunReportData): string {
  if (data.samples.length === 0) return "";
  return `<h2>Sample answers</h2>\n${data.samples.map(sampleGroup).join("\n")}`;
}

function settingsSection(data: RunReportData): string {
  if (data.settings === null) return "";
  const source = data.settingsSource === null ? "" : ` <span class="meta">(${escapeHtml(data.settingsSource)})</span>`;
  return `<h2>Settings${source}</h2>\n${keyValueGrid(Object.entries(data.settings), "settings")}`;
}

function problemsSection(data: RunReportData): string {
  if (data.problems.length === 0) return "";
  return `<ul class="problems">${data.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join("")}</ul>`;
}

function metaLine(data: RunReportData, generatedAt: Date): string {
  const lastStep = data.train.length > 0 ? data.train[data.train.length - 1].step : null;
  const parts = [`folder ${escapeHtml(data.runDir)}`, `written ${escapeHtml(generatedAt.toISOString())}`];
  if (lastStep !== null && lastStep !== undefined) parts.push(`last logged step ${lastStep}`);
  if (data.rounds.length > 0) parts.push(`${data.rounds.length} evaluated round(s)`);
  return `<p class="meta">${parts.join(" · ")}</p>`;
}

/** The whole page (see the file comment). */
export function renderReportHtml(data: RunReportData, charts: ChartData[], assets: PlotAssets, options: RenderOptions): string {
  const title = options.title ?? `rrhf run report: ${runTitle(data.runDir)}`;
  const csp = `default-src 'none'; script-src ${sha256(assets.script)} ${sha256(CHART_SCRIPT)}; style-src 'unsafe-inline'; img-src data:`;
  const chartsBody = charts.length > 0 ? "" : `<p class="meta">No metrics logged yet.</p>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${assets.css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${metaLine(data, options.generatedAt)}
${problemsSection(data)}
<h2>Curves</h2>
<div id="charts" class="charts">${chartsBody}</div>
${roundsSection(data)}
${summarySection(data.summary)}
${samplesSection(data)}
${settingsSection(data)}
<script type="application/json" id="report-data">${jsonForScript({ charts })}</script>
<script>${assets.script}</script>
<script>${CHART_SCRIPT}</script>
</body>
</html>
`;
}
