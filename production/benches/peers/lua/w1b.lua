-- W1b: the clause (+ 1 (resume k (+ x 1))) keeps its activation live until the
-- loop ends. Lua's C stack cannot nest 1,000,000 resumes, so each activation's
-- rest ("add 1") is a closure kept on an explicit stack and run, innermost
-- first, when the body returns. Checksum W1 + N.
local n = tonumber(arg[1])
local yield, resume = coroutine.yield, coroutine.resume

local body = coroutine.create(function()
  local acc = 0
  for i = n, 1, -1 do acc = acc + yield("Inc", i) end
  return "Done", acc
end)

local rests, depth = {}, 0
local _, tag, x = resume(body)
while tag == "Inc" do
  depth = depth + 1
  rests[depth] = function(r) return r + 1 end
  _, tag, x = resume(body, x + 1)
end
for j = depth, 1, -1 do x = rests[j](x) end
print(string.format("%d", x))
