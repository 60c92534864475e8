/**
 * Script of the `/monitor` page, served as `/monitor/monitor.js`. Plain ES2017 so any current
 * browser runs it untranspiled. It polls `/api/system-metrics` and writes every value with
 * `textContent` (never `innerHTML`: route names and upstream URLs come from configuration and must
 * not be able to inject markup, seed-spec D20). Sparklines are drawn on canvases, which a strict
 * CSP allows (no inline style attributes are ever set).
 */
export const MONITOR_JS = String.raw`(function () {
  'use strict';

  var ENDPOINT = '/api/system-metrics';
  var DEFAULT_REFRESH_MS = 2000;
  var refreshMs = DEFAULT_REFRESH_MS;
  var timer = 0;
  var failures = 0;

  function byId(id) {
    return document.getElementById(id);
  }

  function setText(id, text) {
    var el = byId(id);
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }

  function setClass(el, cls) {
    if (el.className !== cls) {
      el.className = cls;
    }
  }

  function num(n) {
    return typeof n === 'number' && isFinite(n) ? n : 0;
  }

  function fmtInt(n) {
    return Math.round(num(n)).toLocaleString('en-US');
  }

  function fmtRate(n) {
    n = num(n);
    return n >= 100 ? fmtInt(n) : n.toFixed(n >= 10 ? 1 : 2);
  }

  function fmtPct(n) {
    n = num(n);
    return (n >= 10 || n === 0 ? n.toFixed(0) : n.toFixed(1)) + ' %';
  }

  function fmtMs(n) {
    n = num(n);
    if (n >= 1000) {
      return (n / 1000).toFixed(2) + ' s';
    }
    return (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) + ' ms';
  }

  function fmtBytes(n) {
    n = num(n);
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? n.toFixed(0) : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
  }

  function fmtDuration(s) {
    s = Math.floor(num(s));
    var d = Math.floor(s / 86400);
    var h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60);
    if (d > 0) {
      return d + 'd ' + h + 'h';
    }
    if (h > 0) {
      return h + 'h ' + m + 'm';
    }
    return m + 'm ' + (s % 60) + 's';
  }

  function ratio(part, whole) {
    return whole > 0 ? (part / whole) * 100 : 0;
  }

  function setMeter(id, value) {
    var el = byId(id);
    if (el) {
      el.value = num(value);
    }
  }

  /** Draws a filled line of the values, scaled to their maximum, in the canvas's CSS color. */
  function sparkline(id, values) {
    var canvas = byId(id);
    if (!canvas || !canvas.getContext) {
      return;
    }
    var dpr = window.devicePixelRatio || 1;
    var w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    var h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    var ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, w, h);
    if (!values || values.length < 2) {
      return;
    }
    var max = 0;
    for (var i = 0; i < values.length; i++) {
      max = Math.max(max, num(values[i]));
    }
    max = max > 0 ? max : 1;
    var step = w / (values.length - 1);
    var pad = 2 * dpr;
    ctx.beginPath();
    for (var j = 0; j < values.length; j++) {
      var x = j * step;
      var y = h - pad - (num(values[j]) / max) * (h - 2 * pad);
      if (j === 0) {
        ctx.moveTo(x, y);
      } else {
        ctx.lineTo(x, y);
      }
    }
    var color = getComputedStyle(canvas).color;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5 * dpr;
    ctx.stroke();
    ctx.lineTo(w, h);
    ctx.lineTo(0, h);
    ctx.closePath();
    ctx.globalAlpha = 0.15;
    ctx.fillStyle = color;
    ctx.fill();
    ctx.globalAlpha = 1;
  }

  function cell(text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) {
      td.className = cls;
    }
    return td;
  }

  function fillTable(id, rows, columns, emptyText) {
    var body = byId(id);
    if (!body) {
      return;
    }
    var trs = [];
    for (var i = 0; i < rows.length; i++) {
      var tr = document.createElement('tr');
      for (var c = 0; c < rows[i].length; c++) {
        tr.appendChild(cell(rows[i][c][0], rows[i][c][1]));
      }
      trs.push(tr);
    }
    if (trs.length === 0) {
      var empty = document.createElement('tr');
      var td = cell(emptyText, 'empty');
      td.colSpan = columns;
      empty.appendChild(td);
      trs.push(empty);
    }
    body.replaceChildren.apply(body, trs);
  }

  function healthOf(u) {
    if (u.draining) {
      return ['draining', 'warn'];
    }
    if (u.ejected) {
      return ['ejected', 'bad'];
    }
    return u.healthy ? ['up', 'ok'] : ['down', 'bad'];
  }

  function circuitClass(state) {
    return state === 'closed' ? 'ok' : state === 'open' ? 'bad' : 'warn';
  }

  function render(d) {
    var t = d.traffic || {};
    var totals = t.totals || {};
    var rates = t.rates || {};
    var lat = t.latencyMs || {};
    var host = d.host || {};
    var mem = host.memory || {};
    var proc = d.process || {};
    var loop = proc.eventLoop || { delayMs: {} };
    var hist = d.history || {};

    setText('rps', fmtRate(rates.requestsPerSecond));
    setText('total-requests', fmtInt(totals.requests));
    setText('error-rate', fmtPct(ratio(num(rates.errorsPerSecond), num(rates.requestsPerSecond))));
    setText('eps', fmtRate(rates.errorsPerSecond));
    setText('total-errors', fmtInt(totals.errors));
    setText('client-errors', fmtInt(totals.clientErrors));
    setText('rate-limited', fmtInt(totals.rateLimited));
    setText('p50', fmtMs(lat.p50));
    setText('p90', fmtMs(lat.p90));
    setText('p99', fmtMs(lat.p99));
    setText('pmax', fmtMs(lat.max));
    setText('active-connections', fmtInt(t.activeConnections));
    setText('in-flight', fmtInt(t.inFlight));
    setText('blocked-ips', fmtInt(totals.blockedIps));
    setText('retries', fmtInt(totals.retries));
    var lookups = num(totals.cacheHits) + num(totals.cacheMisses);
    setText('cache-ratio', lookups > 0 ? fmtPct(ratio(num(totals.cacheHits), lookups)) : 'no lookups');
    setText('cache-hits', fmtInt(totals.cacheHits));
    setText('cache-misses', fmtInt(totals.cacheMisses));
    setText('bytes-in', fmtBytes(totals.bytesIn));
    setText('bytes-out', fmtBytes(totals.bytesOut));

    setText('host-cpu', fmtPct(host.cpuPercent));
    setMeter('host-cpu-meter', host.cpuPercent);
    setText('cores', fmtInt(host.cores));
    setText('load', (host.loadAverage || []).map(function (l) { return num(l).toFixed(2); }).join(' '));
    setText('host-mem', fmtPct(mem.usedPercent));
    setMeter('host-mem-meter', mem.usedPercent);
    setText('host-mem-used', fmtBytes(mem.usedBytes));
    setText('host-mem-total', fmtBytes(mem.totalBytes));
    setText('host-uptime', fmtDuration(host.uptimeSeconds));

    setText('proc-cpu', fmtPct(proc.cpuPercent));
    setText(
      'proc-rss',
      fmtBytes(proc.rssBytes) + (proc.memoryLimitBytes ? ' of ' + fmtBytes(proc.memoryLimitBytes) : ''),
    );
    setText('proc-heap', fmtBytes(proc.heapUsedBytes) + ' / ' + fmtBytes(proc.heapTotalBytes));
    setText('loop-p99', fmtMs(loop.delayMs.p99));
    setText('loop-elu', fmtPct(num(loop.utilization) * 100));
    setText('proc-uptime', fmtDuration(proc.uptimeSeconds));

    sparkline('spark-rps', hist.requestsPerSecond);
    sparkline('spark-p99', hist.p99Ms);
    sparkline('spark-cpu', hist.hostCpuPercent);
    sparkline('spark-proc', hist.processCpuPercent);

    var routeRows = (t.routes || []).map(function (r) {
        var l = r.latencyMs || {};
        var errPct = ratio(num(r.errors), num(r.requests));
        return [
          [String(r.name)],
          [fmtInt(r.requests), 'num'],
          [fmtInt(r.errors), 'num'],
          [fmtPct(errPct), 'num ' + (errPct >= 5 ? 'bad' : errPct > 0 ? 'warn' : '')],
          [fmtMs(l.p50), 'num'],
          [fmtMs(l.p90), 'num'],
          [fmtMs(l.p99), 'num'],
        ];
      });
    if (num(t.routesOmitted) > 0) {
      routeRows.push([['… ' + fmtInt(t.routesOmitted) + ' more routes (the busiest are listed)', 'empty']]);
    }
    fillTable('routes', routeRows, 7, 'no routes configured');
    fillTable(
      'upstreams',
      (t.upstreams || []).map(function (u) {
        var health = healthOf(u);
        return [
          [String(u.route)],
          [String(u.url), 'url'],
          [health[0], health[1]],
          [String(u.circuit), circuitClass(u.circuit)],
          [fmtInt(u.inFlight), 'num'],
          [fmtInt(u.requests), 'num'],
          [fmtInt(u.failures), 'num' + (num(u.failures) > 0 ? ' warn' : '')],
        ];
      }),
      7,
      'no upstreams',
    );

    setText('version', String((d.gateway && d.gateway.version) || '?'));
    setText('node-version', String(proc.nodeVersion || '?'));
    setText('sampled-at', new Date(d.sampledAt).toLocaleTimeString());
    if (num(d.intervalMs) >= 500) {
      refreshMs = num(d.intervalMs);
    }
    setText('refresh', (refreshMs / 1000).toFixed(refreshMs % 1000 ? 1 : 0) + ' s');
  }

  function setStatus(live, text) {
    setClass(document.body, live ? 'live' : 'stale');
    setText('status', text);
  }

  function schedule() {
    clearTimeout(timer);
    // Back off while the gateway does not answer, up to 30 s.
    var wait = failures > 0 ? Math.min(30000, refreshMs * Math.pow(2, failures - 1)) : refreshMs;
    timer = setTimeout(poll, wait);
  }

  function poll() {
    if (document.hidden) {
      return;
    }
    fetch(ENDPOINT, { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) {
          throw new Error('HTTP ' + res.status);
        }
        return res.json();
      })
      .then(function (data) {
        failures = 0;
        render(data);
        setStatus(true, 'live · ' + new Date().toLocaleTimeString());
      })
      .catch(function (err) {
        failures++;
        setStatus(false, 'no data (' + (err && err.message ? err.message : 'error') + '), retrying');
      })
      .then(schedule);
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) {
      poll();
    }
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', poll);
  } else {
    poll();
  }
})();
`;
