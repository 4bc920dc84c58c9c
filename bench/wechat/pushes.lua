-- wrk script: POST pre-generated WeChat pushes, each thread its own share, every request a different one.
--
--   wrk -t T -c C -d Ds -s pushes.lua URL -- PUSHES_FILE T
--
-- PUSHES_FILE has one push per line, "<path?query>\t<body>" (bench/wechat/pushes.py). Thread i (1-based)
-- sends lines i, i+T, i+2T, ... in order, so the pushes sent are the first `sent` of each thread's share;
-- past the end of its share a thread starts over and counts the repeats. done() prints one line,
-- "RESULT {json}", that bench/wechat/run.py reads.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local path, count = args[1], tonumber(args[2])
  pushes = {}
  sent, repeats, non2xx = 0, 0, 0
  local index = 0
  for line in io.lines(path) do
    if index % count == id - 1 then
      local target, body = line:match("^([^\t]*)\t(.*)$")
      table.insert(pushes, wrk.format("POST", target, { ["Content-Type"] = "text/xml" }, body))
    end
    index = index + 1
  end
end

function request()
  if id == 1 and not checked then
    -- wrk builds thread 1's first request once before the run, to check that it parses, and never
    -- sends it: that one is not counted as sent
    checked = true
    return pushes[1]
  end
  sent = sent + 1
  if sent > #pushes then
    repeats = repeats + 1
  end
  return pushes[(sent - 1) % #pushes + 1]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local sent_by_thread, repeated, bad = {}, 0, 0
  for _, thread in ipairs(threads) do
    table.insert(sent_by_thread, thread:get("sent"))
    repeated = repeated + thread:get("repeats")
    bad = bad + thread:get("non2xx")
  end
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, '
      .. '"non2xx": %d, "socket_errors": %d, "repeats": %d, "sent": [%s]}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, bad, errors.connect + errors.read + errors.write + errors.timeout, repeated,
    table.concat(sent_by_thread, ", ")
  ))
end
