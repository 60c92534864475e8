-- wrk script used by bench/load.js.
--
-- done(): prints one machine-readable line with exact microsecond percentiles (wrk's own text
-- output rounds them to two decimals and mixes units).
--
-- delay(): defined only when BENCH_WRK_RATE is set, because wrk switches every connection to
-- paced mode as soon as the function exists. It paces each connection so the whole run
-- offers about BENCH_WRK_RATE req/s (issue 3: p99 at a fixed 2,000 req/s). wrk waits delay()
-- ms after each response before the next request on that connection, so the achieved rate
-- also depends on latency: once a second the delay is corrected from the observed count.
-- Delays are drawn at random around the mean so connections never fire in lockstep.

local rate = tonumber(os.getenv("BENCH_WRK_RATE") or "")

if rate and rate > 0 then
  local threads = tonumber(os.getenv("BENCH_WRK_THREADS") or "1")
  local conns = tonumber(os.getenv("BENCH_WRK_CONNECTIONS") or "1")
  -- Each thread has its own Lua state, so these are per thread.
  local perThreadRate = rate / threads
  local meanDelay = (conns / threads) * 1000 / perThreadRate -- ms between requests, per conn
  local second, count, boundaries = os.time(), 0, 0

  function delay()
    count = count + 1
    local now = os.time()
    if now ~= second then
      boundaries = boundaries + 1
      -- The first second is partial; after that, scale the delay by achieved/target,
      -- within bounds so one odd second cannot swing it far.
      if boundaries > 1 and now == second + 1 then
        local factor = count / perThreadRate
        if factor < 0.5 then factor = 0.5 end
        if factor > 2 then factor = 2 end
        meanDelay = meanDelay * factor
      end
      second, count = now, 0
    end
    -- wrk truncates to whole ms: a uniform draw in [0.5, 1.5] x mean keeps the fractional
    -- part on average and spreads the connections out.
    return math.floor(meanDelay * (0.5 + math.random()) + 0.5)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_WRK {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,'
      .. '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},'
      .. '"latency_us":{"min":%.0f,"mean":%.1f,"max":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)
  ))
end
