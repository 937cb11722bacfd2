-- What every bench run prints when it ends: one line of JSON that bench/run.py reads.
-- `unexpected` (a global of each thread) counts answers other than the one the run expects.
threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local unexpected = 0
   for _, thread in ipairs(threads) do
      unexpected = unexpected + thread:get("unexpected")
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "unexpected": %d, '
         .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), unexpected,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
