-- wrk reporter for the bench (bench/src/load.rs): one machine-readable line at the end.
-- RESULT <req/s> <p50 ms> <p99 ms> <socket errors> <non-2xx/3xx> <requests>
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status, summary.requests))
end
