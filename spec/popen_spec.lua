-- io.popen and os.execute (lua/moonsock/popen.lua over moonsock.core.process):
-- the same results as stock lua5.4's, which the spec runs as the reference,
-- while waiting parks only the calling task.
local task = require "task"
local helpers = require "spec.support.helpers"

local TIMEOUT = 5

-- Runs a chunk that returns a text both here and in stock lua5.4; returns
-- (ours, lua5.4's).
local function both(code)
  local ours = assert(load(code))()
  local path = helpers.write_temp("io.write((function() " .. code .. " end)())", ".lua")
  local theirs, err, rc = helpers.run("lua5.4 " .. helpers.shell_quote(path))
  os.remove(path)
  assert.are.equal(0, rc, err)
  return ours, theirs
end

-- The results of calls, one line: values joined by tabs.
local SHOW = [[
local function show(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  return table.concat(t, "\t", 1, t.n) .. "\n"
end
]]

describe("io.popen", function()
  it("reads a child's output and closes with Lua's results for exit 0, exit 3 and a signal", function()
    local ours, theirs = both(SHOW .. [[
      local out = {}
      for _, cmd in ipairs {"echo hello; echo world", "printf x; exit 3", "kill -9 $$",
                            "kill -15 $$", "exit 255"} do
        local f = io.popen(cmd)
        out[#out + 1] = show(f:read("a"))
        out[#out + 1] = show(f:close())
      end
      return table.concat(out)
    ]])
    assert.are.equal(theirs, ours)
    assert.truthy(ours:find("nil\tsignal\t9", 1, true))
  end)

  it("writes to a child in mode \"w\", whose close sends the child its end of file", function()
    local path = os.tmpname()
    local code = SHOW .. [[
      local path = ...
      local f = io.popen("cat > " .. path, "w")
      local out = {show(f:write("a", 1, 2.5, "\n") == f), show(f:read()), show(f:flush() == f)}
      out[#out + 1] = show(f:close())
      local r = io.open(path, "rb")
      out[#out + 1] = show(r:read("a"))
      r:close()
      return table.concat(out)
    ]]
    local ours = assert(load(code))(path)
    local script = helpers.write_temp("io.write((function(...) " .. code .. " end)(...))", ".lua")
    local theirs = helpers.run("lua5.4 " .. helpers.shell_quote(script) .. " " .. helpers.shell_quote(path))
    os.remove(script)
    os.remove(path)
    assert.are.equal(theirs, ours)
  end)

  it("reads lines and numbers, refuses to seek and to write on an \"r\" pipe, as Lua's popen file", function()
    local ours, theirs = both(SHOW .. [[
      local out = {}
      local f = io.popen("printf 'one\ntwo\n\nthree'")
      for l in f:lines() do out[#out + 1] = show(l) end
      out[#out + 1] = show(f:read("a"), f:read("l"))
      out[#out + 1] = show(f:seek())
      out[#out + 1] = show(f:write("x"))
      out[#out + 1] = show(io.type(f), f:setvbuf("no"))
      out[#out + 1] = show(f:close())
      out[#out + 1] = show(io.type(f), pcall(f.read, f))
      f = io.popen("printf '12 0x1F 3.5e2 rest'")
      out[#out + 1] = show(f:read("n", "n", "n", 2, "L"))
      out[#out + 1] = show(f:close())
      f = io.popen("printf 'a\nb\n'")
      for a, b in f:lines(1, "L") do out[#out + 1] = show(a, b) end
      out[#out + 1] = show(f:close())
      return table.concat(out)
    ]])
    assert.are.equal(theirs, ours)
  end)

  it("rejects a bad mode and a bad command as Lua does", function()
    local ours, theirs = both(SHOW .. [[
      local out = {}
      for _, args in ipairs {{"true", "x"}, {"true", "rw"}, {{}}, {"true", {}}} do
        local ok, err = pcall(io.popen, table.unpack(args))
        out[#out + 1] = show(ok, (tostring(err):gsub("^[^:]*:%d+: ", "")))
      end
      return table.concat(out)
    ]])
    assert.are.equal(theirs, ours)
  end)
end)

describe("os.execute", function()
  it("returns Lua's results for exit 0, exit 3, a signal and no command", function()
    local ours, theirs = both(SHOW .. [[
      local out = {}
      for _, cmd in ipairs {"true", "exit 3", "kill -9 $$", "kill -2 $$"} do
        out[#out + 1] = show(os.execute(cmd))
      end
      out[#out + 1] = show(os.execute())
      local ok, err = pcall(os.execute, {})
      out[#out + 1] = show(ok, (tostring(err):gsub("^[^:]*:%d+: ", "")))
      return table.concat(out)
    ]])
    assert.are.equal(theirs, ours)
  end)
end)

describe("waiting for a child", function()
  -- A ticker task counts 10 ms sleeps while the caller waits for a child
  -- that takes 0.3 s: with the loop blocked it would count none.
  local function ticks_during(fn)
    local ticker = helpers.ticker()
    local t0 = task.now()
    local results = table.pack(fn())
    local elapsed = task.now() - t0
    return ticker.stop().ticks, elapsed, results
  end

  it("parks only its task in a popen read and close", function()
    local ticks, elapsed, r = ticks_during(function()
      local f = io.popen("sleep 0.3; echo done")
      local text = f:read("a")
      return text, f:close()
    end)
    assert.are.same({"done\n", true, "exit", 0, n = 4}, r)
    assert.is_true(elapsed >= 0.3)
    assert.is_true(ticks >= 10, "ticks: " .. ticks)
  end)

  it("parks only its task in os.execute", function()
    local ticks, elapsed, r = ticks_during(function() return os.execute("sleep 0.3") end)
    assert.are.same({true, "exit", 0, n = 3}, r)
    assert.is_true(elapsed >= 0.3)
    assert.is_true(ticks >= 10, "ticks: " .. ticks)
  end)

  it("lets several tasks run children at once", function()
    local t0 = task.now()
    local tasks = {}
    for i = 1, 5 do
      tasks[i] = task.spawn(function()
        local f = io.popen("sleep 0.3; echo " .. i)
        local text = f:read("l")
        f:close()
        return text
      end)
    end
    for i = 1, 5 do assert.are.equal(tostring(i), tasks[i]:join(TIMEOUT)) end
    -- one after another they would take 1.5 s
    assert.is_true(task.now() - t0 < 1.2)
  end)

  it("falls back to Lua's blocking popen where a task cannot park (inside require)", function()
    package.preload["spec_popen_in_require"] = function()
      local f = io.popen("echo inside")
      local text = f:read("a")
      return {text, f:close()}
    end
    local r = require "spec_popen_in_require"
    package.loaded["spec_popen_in_require"] = nil
    assert.are.same({"inside\n", true, "exit", 0}, r)
  end)
end)
