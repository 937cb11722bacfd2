-- Booking creation through the real form, each request on another free slot.
-- Arguments: the slots file (a Lua list of {path, form body}, written by bench/run.py with the
-- session's CSRF token), the first slot of this run, and the number of threads. Thread t takes
-- slots first + t, first + t + threads, ...: no two requests ask for the same slot.
-- Success is the redirect to the new booking; anything else (a form shown again) counts.
dofile(debug.getinfo(1, "S").source:match("@(.*/)") .. "report.lua")

function init(args)
   slots = dofile(args[1])
   first = tonumber(args[2])
   step = tonumber(args[3])
   sent = 0
   unexpected = 0
end

function request()
   local slot = slots[(first + id + sent * step) % #slots + 1]
   sent = sent + 1
   return wrk.format("POST", slot[1], nil, slot[2])
end

function response(status, headers, body)
   if status ~= 302 or not string.find(headers["Location"] or "", "/bookings/%d") then
      unexpected = unexpected + 1
   end
end
