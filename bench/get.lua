-- wrk script for bench/http_verify.py: plain GETs, one machine-readable summary line.
function done(summary, latency, requests)
  io.write(string.format("WRKSUMMARY requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout))
end
