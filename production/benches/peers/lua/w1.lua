-- W1: N performs of Inc i (i = N..1) as coroutine yields; the handler is the
-- resume loop, answering i+1 (tail-resumptive). Checksum N(N+1)/2 + N.
local n = tonumber(arg[1])
local yield, resume = coroutine.yield, coroutine.resume

local body = coroutine.create(function()
  local acc = 0
  for i = n, 1, -1 do acc = acc + yield("Inc", i) end
  return "Done", acc
end)

local _, tag, x = resume(body)
while tag == "Inc" do _, tag, x = resume(body, x + 1) end
print(string.format("%d", x))
