-- W4: N coroutines each suspended at a perform (yield), held in a table; then
-- each is resumed (it returns i). Checksum N(N+1)/2.
local n = tonumber(arg[1])
local resume, create, yield = coroutine.resume, coroutine.create, coroutine.yield
local held = {}
for i = 1, n do
  local co = create(function() yield("Park", i); return i end)
  resume(co)
  held[i] = co
end
local s = 0
for i = 1, n do local _, v = resume(held[i], 0); s = s + v end
print(string.format("%d", s))
