-- A page or a feed: the same GET each time; anything but the expected status (argument 1) counts.
dofile(debug.getinfo(1, "S").source:match("@(.*/)") .. "report.lua")

function init(args)
   expected = tonumber(args[1]) or 200
   unexpected = 0
end

function response(status, headers, body)
   if status ~= expected then
      unexpected = unexpected + 1
   end
end
