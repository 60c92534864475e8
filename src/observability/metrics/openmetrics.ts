import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export const OPENMETRICS_CONTENT_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';

type Sample = MetricValue<string> & { metricName?: string };

/**
 * Whether the client prefers OpenMetrics (Prometheus asks with
 * `application/openmetrics-text;version=1.0.0,…,text/plain;version=0.0.4;q=0.5`): it must be
 * listed with a q above zero and at least that of any other acceptable type.
 */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) {
    return false;
  }
  // Media types are case-insensitive.
  const lower = accept.toLowerCase();
  if (!lower.includes('application/openmetrics-text')) {
    return false;
  }
  let om = -1;
  let other = -1;
  for (const part of lower.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    let q = 1;
    for (const p of params) {
      if (p.startsWith('q=')) {
        const v = Number(p.slice(2));
        q = Number.isFinite(v) ? v : 0;
      }
    }
    if (type === 'application/openmetrics-text') {
      om = Math.max(om, q);
    } else if (type !== '') {
      other = Math.max(other, q);
    }
  }
  return om > 0 && om >= other;
}

/**
 * Renders prom-client's metric objects in the OpenMetrics 1.0 text format. prom-client can write
 * it only by switching the whole (shared) registry's content type, and its OpenMetrics path
 * renames counters in place, which corrupts later text-format scrapes; a private renderer
 * avoids both.
 */
export function renderOpenMetrics(metrics: MetricObjectWithValues<MetricValue<string>>[]): string {
  const out: string[] = [];
  for (const m of metrics) {
    const type = String(m.type);
    const family = type === 'counter' ? m.name.replace(/_total$/, '') : m.name;
    out.push(
      `# TYPE ${family} ${type === 'counter' || type === 'gauge' || type === 'histogram' || type === 'summary' ? type : 'unknown'}`,
    );
    out.push(`# HELP ${family} ${escapeHelp(m.help)}`);
    for (const v of m.values as Sample[]) {
      const name = type === 'counter' ? `${family}_total` : (v.metricName ?? family);
      out.push(`${name}${formatLabels(v.labels)} ${formatValue(v.value)}`);
    }
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

function formatLabels(labels: Record<string, string | number | undefined> | undefined): string {
  if (!labels) {
    return '';
  }
  const parts: string[] = [];
  for (const k in labels) {
    const v = labels[k];
    if (v !== undefined) {
      parts.push(`${k}="${escapeLabel(typeof v === 'number' ? formatValue(v) : v)}"`);
    }
  }
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatValue(v: number): string {
  if (v === Infinity) {
    return '+Inf';
  }
  if (v === -Infinity) {
    return '-Inf';
  }
  return Number.isNaN(v) ? 'NaN' : String(v);
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
