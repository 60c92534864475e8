/**
 * The `/monitor` page. Markup only: no inline script, style or event handler, so it runs under
 * the page's strict CSP (and under the gateway's `default-src 'self'`). `{{…}}` placeholders are
 * replaced at boot with the versioned asset URLs.
 */
export const MONITOR_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Monitor · nest-edge-gateway</title>
<link rel="icon" type="image/svg+xml" href="{{icon}}">
<link rel="stylesheet" href="{{style}}">
<script src="{{script}}" defer></script>
</head>
<body class="connecting">
<header>
  <h1>nest-edge-gateway <span class="muted">monitor</span></h1>
  <p class="status"><span class="dot"></span><span id="status">connecting…</span></p>
</header>
<main>
  <section class="cards" aria-label="Traffic">
    <article class="card">
      <h2>Requests / s</h2>
      <p class="big" id="rps">–</p>
      <canvas id="spark-rps" class="spark rps" aria-label="requests per second, last minutes"></canvas>
      <p class="sub">total <span id="total-requests">–</span></p>
    </article>
    <article class="card">
      <h2>Error rate</h2>
      <p class="big" id="error-rate">–</p>
      <p class="sub">5xx/s <span id="eps">–</span> · 5xx total <span id="total-errors">–</span></p>
      <p class="sub">4xx total <span id="client-errors">–</span> · rate-limited <span id="rate-limited">–</span></p>
    </article>
    <article class="card">
      <h2>Latency (last minute)</h2>
      <dl class="grid4">
        <dt>p50</dt><dd id="p50">–</dd>
        <dt>p90</dt><dd id="p90">–</dd>
        <dt>p99</dt><dd id="p99">–</dd>
        <dt>max</dt><dd id="pmax">–</dd>
      </dl>
      <canvas id="spark-p99" class="spark p99" aria-label="p99 latency, last minutes"></canvas>
    </article>
    <article class="card">
      <h2>Connections</h2>
      <dl class="grid2">
        <dt>active</dt><dd id="active-connections">–</dd>
        <dt>in flight</dt><dd id="in-flight">–</dd>
        <dt>blocked IPs</dt><dd id="blocked-ips">–</dd>
        <dt>retries</dt><dd id="retries">–</dd>
      </dl>
    </article>
    <article class="card">
      <h2>Cache</h2>
      <p class="big" id="cache-ratio">–</p>
      <p class="sub">hits <span id="cache-hits">–</span> · misses <span id="cache-misses">–</span></p>
      <p class="sub">in <span id="bytes-in">–</span> · out <span id="bytes-out">–</span></p>
    </article>
  </section>
  <section class="cards" aria-label="System">
    <article class="card">
      <h2>Host CPU</h2>
      <p class="big" id="host-cpu">–</p>
      <meter id="host-cpu-meter" min="0" max="100" low="60" high="80" optimum="0" value="0"></meter>
      <canvas id="spark-cpu" class="spark cpu" aria-label="host CPU, last minutes"></canvas>
      <p class="sub"><span id="cores">–</span> cores · load <span id="load">–</span></p>
    </article>
    <article class="card">
      <h2>Host memory</h2>
      <p class="big" id="host-mem">–</p>
      <meter id="host-mem-meter" min="0" max="100" low="70" high="90" optimum="0" value="0"></meter>
      <p class="sub"><span id="host-mem-used">–</span> of <span id="host-mem-total">–</span> · host up <span id="host-uptime">–</span></p>
    </article>
    <article class="card">
      <h2>Gateway process</h2>
      <dl class="grid2">
        <dt>CPU</dt><dd id="proc-cpu">–</dd>
        <dt>RSS</dt><dd id="proc-rss">–</dd>
        <dt>heap</dt><dd id="proc-heap">–</dd>
        <dt>loop delay p99</dt><dd id="loop-p99">–</dd>
        <dt>loop busy</dt><dd id="loop-elu">–</dd>
        <dt>uptime</dt><dd id="proc-uptime">–</dd>
      </dl>
      <canvas id="spark-proc" class="spark proc" aria-label="process CPU, last minutes"></canvas>
    </article>
  </section>
  <section aria-label="Routes">
    <h2>Routes</h2>
    <table>
      <thead><tr><th>route</th><th class="num">requests</th><th class="num">5xx</th><th class="num">5xx %</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th></tr></thead>
      <tbody id="routes"></tbody>
    </table>
  </section>
  <section aria-label="Upstreams">
    <h2>Upstreams</h2>
    <table>
      <thead><tr><th>route</th><th>upstream</th><th>health</th><th>circuit</th><th class="num">in flight</th><th class="num">requests</th><th class="num">failures</th></tr></thead>
      <tbody id="upstreams"></tbody>
    </table>
  </section>
</main>
<footer>
  <span>v<span id="version">–</span> · Node <span id="node-version">–</span></span>
  <span>sampled <span id="sampled-at">–</span>, refreshed every <span id="refresh">–</span></span>
</footer>
</body>
</html>
`;
