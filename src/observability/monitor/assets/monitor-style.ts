/** Stylesheet of the `/monitor` page, served as `/monitor/monitor.css`. */
export const MONITOR_CSS = `:root {
  color-scheme: dark;
  --bg: #0f1419;
  --panel: #171d24;
  --line: #26303b;
  --text: #d8dee6;
  --muted: #8b96a3;
  --ok: #3fb950;
  --warn: #d29922;
  --bad: #f85149;
  --accent: #58a6ff;
}
* { box-sizing: border-box; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
header, footer {
  display: flex;
  justify-content: space-between;
  align-items: center;
  padding: 12px 20px;
  border-bottom: 1px solid var(--line);
}
footer { border-top: 1px solid var(--line); border-bottom: 0; color: var(--muted); font-size: 12px; }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 8px; }
main { padding: 16px 20px; }
section { margin-bottom: 20px; }
.muted { color: var(--muted); font-weight: normal; }
.status { margin: 0; color: var(--muted); }
.dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--muted); }
body.live .dot { background: var(--ok); }
body.stale .dot { background: var(--bad); }
body.stale .status { color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; }
.big { font-size: 28px; font-weight: 600; margin: 0 0 4px; font-variant-numeric: tabular-nums; }
.sub { margin: 2px 0 0; color: var(--muted); font-size: 12px; }
.sub span, dd { color: var(--text); font-variant-numeric: tabular-nums; }
dl { margin: 0; display: grid; gap: 2px 12px; }
.grid2 { grid-template-columns: auto 1fr; }
.grid4 { grid-template-columns: auto 1fr auto 1fr; }
dt { color: var(--muted); }
dd { margin: 0; text-align: right; }
meter { width: 100%; height: 10px; }
canvas.spark { display: block; width: 100%; height: 36px; margin-top: 6px; color: var(--accent); }
canvas.spark.cpu, canvas.spark.proc { color: var(--warn); }
canvas.spark.p99 { color: #bc8cff; }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { color: var(--muted); font-weight: normal; font-size: 12px; text-transform: uppercase; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.url { white-space: normal; word-break: break-all; }
td.empty { color: var(--muted); text-align: center; }
.ok { color: var(--ok); }
.warn { color: var(--warn); }
.bad { color: var(--bad); }
`;
