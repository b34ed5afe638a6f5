-- LuaSocket's own Lua modules from Debian's lua-socket, unchanged, on
-- moonsock: socket.http and ltn12 against a python3 HTTP server on loopback
-- (the same client script under lua5.4 + LuaSocket and under moonsock must
-- print the same), and 100 requests in 100 tasks in about the time of one.
--
-- Run: bin/moonsock /usr/bin/busted spec/luasocket_libs_spec.lua
local helpers = require "spec.support.helpers"
local task = require "task"

local q = helpers.shell_quote
local dir = "spec/luasocket_scenarios/"
local REFERENCE = "env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 timeout 60 lua5.4 "
-- /slow's delay: the concurrent requests must overlap it.
local DELAY = 0.5

-- start(script, ...) -> port, pid of a python3 server that writes its port
-- to a file when it listens.
local function start(python, script, ...)
  local portfile, pidfile = os.tmpname(), os.tmpname()
  os.remove(portfile)
  local args = {}
  for i = 1, select("#", ...) do args[i] = q((select(i, ...))) end
  os.execute(python .. " " .. q(dir .. script) .. " " .. q(portfile) .. " " .. table.concat(args, " ") ..
    " >/dev/null 2>&1 & echo $! > " .. q(pidfile))
  local pid = helpers.read_file(pidfile):match("%d+")
  os.remove(pidfile)
  local port
  for _ = 1, 200 do
    port = helpers.read_file(portfile)
    if port and port ~= "" then break end
    task.sleep(0.05)
  end
  os.remove(portfile)
  assert(port, "the python3 server did not start")
  return port, pid
end

describe("socket.http from Debian's lua-socket", function()
  local port, pid
  setup(function() port, pid = start("python3", "http_server.py", tostring(DELAY)) end)
  teardown(function() if pid then os.execute("kill " .. pid) end end)

  it("GET, POST with an ltn12 source, redirects, chunked: as under lua5.4", function()
    local ref, referr, refrc = helpers.run(REFERENCE .. q(dir .. "http_client.lua") .. " " .. port)
    assert(refrc == 0, referr)
    local out, err, rc = helpers.run("timeout 60 " .. q(helpers.moonsock) .. " " .. q(dir .. "http_client.lua") ..
      " " .. port)
    assert(rc == 0, err)
    assert.truthy(ref:find("chunked", 1, true))
    assert.are.equal(ref, out)
  end)

  it("runs 100 requests in 100 tasks in about the time of one", function()
    local http = require "socket.http"
    local results = {}
    local start_time = task.now()
    local tasks = {}
    for i = 1, 100 do
      tasks[i] = task.spawn(function()
        local body, code = http.request("http://127.0.0.1:" .. port .. "/slow/" .. i)
        results[i] = {body, code}
      end)
    end
    for _, t in ipairs(tasks) do t:join(30) end
    local elapsed = task.now() - start_time
    for i = 1, 100 do
      assert.are.same({"/slow/" .. i, 200}, results[i])
    end
    -- one at a time would take 100 * DELAY = 50 s
    assert.is_true(elapsed < DELAY * 6, "100 requests took " .. elapsed .. " s")
  end)
end)
