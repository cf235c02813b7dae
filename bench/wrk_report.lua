-- wrk reporter: counts every response by status in each thread and, when the run is done,
-- prints one line "WRK_REPORT {json}" that bench/harness.py parses.
--
-- wrk gives each thread its own Lua state; setup() and done() run in a further state of their
-- own. The thread objects kept by setup() are how done() reads each thread's counters back
-- (thread:get copies numbers and tables of numbers). wrk's own summary.errors.status only
-- counts statuses above 399, so redirects would slip through it: hence the explicit tally.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

-- Per running thread: status code -> responses seen.
statuses = {}

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local totals = {}
   for _, thread in ipairs(threads) do
      local counts = thread:get("statuses") or {}
      for code, n in pairs(counts) do
         totals[code] = (totals[code] or 0) + n
      end
   end
   local parts = {}
   for code, n in pairs(totals) do
      table.insert(parts, string.format('"%d":%d', code, n))
   end
   local errors = summary.errors
   -- Durations and latencies are in microseconds.
   io.write(string.format(
      'WRK_REPORT {"duration_us":%d,"requests":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f,"mean":%.1f},' ..
      '"statuses":{%s}}\n',
      summary.duration, summary.requests, summary.bytes,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean,
      table.concat(parts, ",")))
end
