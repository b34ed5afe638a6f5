-- task.spawn(fn, ...) moved fn and its arguments onto the new coroutine with
-- lua_xmove, without growing the coroutine's stack first (a new thread has
-- room for about 40 values): with more arguments it wrote past the stack and
-- the process crashed (SIGSEGV in the release build). The main task gets the
-- script's command-line arguments the same way, so `moonsock script.lua`
-- with 50 or more arguments crashed before the script ran. Found while
-- feeding a fuzz corpus to a script as arguments (spec/fuzz/).
-- Fix (src/task.c, task_spawn): lua_checkstack(co, n) before lua_xmove,
-- raising "too many arguments" if it fails.
local h = require "spec.support.helpers"

describe("spawning with many arguments", function()
  it("passes 200 arguments to task.spawn's function", function()
    local out, err, rc = h.moonsock_script([[
local task = require "task"
local t = {}
for i = 1, 200 do t[i] = i end
local handle = task.spawn(function(...) return select("#", ...), (select(200, ...)) end, table.unpack(t))
print(handle:join(10))
]])
    assert.are.equal(0, rc, err)
    local py = h.python("import threading\nr = []\n" ..
      "t = threading.Thread(target=lambda *a: r.append((len(a), a[199])), args=range(1, 201))\n" ..
      "t.start(); t.join(); print(*r[0], sep='\\t')\n")
    assert.are.equal(py, out)
  end)

  it("passes 300 command-line arguments to the script, as python3 does to sys.argv", function()
    local args = {}
    for i = 1, 300 do args[i] = "a" .. i end
    local out, err, rc = h.moonsock_script('print(select("#", ...), select(300, ...))', table.unpack(args))
    assert.are.equal(0, rc, err)
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = h.shell_quote(a) end
    local py = h.run("python3 -c " .. h.shell_quote("import sys; print(len(sys.argv) - 1, sys.argv[300], sep='\\t')")
      .. " " .. table.concat(quoted, " "))
    assert.are.equal(py, out)
  end)
end)
