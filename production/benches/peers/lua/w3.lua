-- W3: a FIFO coroutine scheduler (Spawn / Await). N batches: main spawns 100
-- tasks; each yields Tick i, which the scheduler forwards to the outer handler
-- (answer i+1), and returns it; main awaits the handles, last spawned first,
-- and sums them. Checksum N * 5150. With a second argument "park": N tasks all
-- await one promise that main completes after spawning them.
local n, park = tonumber(arg[1]), arg[2] == "park"
local yield, resume, create = coroutine.yield, coroutine.resume, coroutine.create

local function scheduled(main)
  return function()
    local queue, qv, head, tail = {}, {}, 1, 0
    local function enqueue(t, v) tail = tail + 1; queue[tail] = t; qv[tail] = v end
    local root = { co = create(main), waiters = {} }
    enqueue(root, nil)
    while head <= tail do
      local t, v = queue[head], qv[head]
      queue[head], qv[head] = nil, nil
      head = head + 1
      while true do
        local ok, tag, x = resume(t.co, v)
        assert(ok, tag)
        if tag == "Done" then
          t.done, t.value = true, x
          for _, w in ipairs(t.waiters) do enqueue(w, x) end
          t.waiters, t.co = nil, nil
          break
        elseif tag == "Spawn" then
          local child = { co = create(x), waiters = {} }
          enqueue(child, nil)
          v = child
        elseif tag == "Await" then
          if x.done then v = x.value else x.waiters[#x.waiters + 1] = t; break end
        else
          v = yield(tag, x)        -- not the scheduler's: forward outward
        end
      end
    end
    return "Done", root.value
  end
end

local function batches()
  local total = 0
  for _ = 1, n do
    local hs = {}
    for i = 100, 1, -1 do hs[#hs + 1] = yield("Spawn", function() return "Done", yield("Tick", i) end) end
    for j = #hs, 1, -1 do total = total + yield("Await", hs[j]) end
  end
  return "Done", total
end

local function parked()
  local p = { waiters = {} }
  for _ = 1, n do yield("Spawn", function() return "Done", yield("Await", p) end) end
  yield("Await", yield("Spawn", function() return "Done", 0 end))
  return "Done", n                    -- the N tasks are still parked on p when the run ends
end

local sched = create(scheduled(park and parked or batches))
local _, tag, x = resume(sched)
while tag == "Tick" do _, tag, x = resume(sched, x + 1) end
assert(tag == "Done", tostring(x))
print(string.format("%d", x))
