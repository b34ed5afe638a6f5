-- The LuaSocket examples (examples/luasocket_*.lua) under moonsock, under
-- stock lua5.4 with Debian's LuaSocket, and their Python twins: the same
-- output from all three.
--
-- Run: bin/moonsock /usr/bin/busted spec/luasocket_examples_spec.lua
local helpers = require "spec.support.helpers"
local socket = require "socket"
local task = require "task"

local q = helpers.shell_quote
local RUNNERS = {
  moonsock = q(helpers.moonsock) .. " examples/%s.lua",
  lua = "env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 lua5.4 examples/%s.lua",
  python = "python3 examples/python/%s.py",
}

local function command(runner, name, args)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = q(a) end
  return "timeout 60 " .. RUNNERS[runner]:format(name) .. " " .. table.concat(quoted, " ")
end

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

-- background(cmd) -> a function that waits for it and gives its output.
local function background(cmd)
  local out = os.tmpname()
  os.execute("(" .. cmd .. " > " .. q(out) .. " 2>&1; echo $? > " .. q(out) .. ".rc) &")
  return function(ready)
    for _ = 1, 400 do
      local text = helpers.read_file(out) or ""
      if ready and text:find(ready, 1, true) then return text end
      if not ready and helpers.read_file(out .. ".rc") then
        os.remove(out .. ".rc")
        os.remove(out)
        return text
      end
      task.sleep(0.05)
    end
    error("no answer from " .. cmd)
  end
end

describe("the LuaSocket examples", function()
  it("echo server and client: the same under moonsock, lua5.4 and Python", function()
    local outputs = {}
    for _, runner in ipairs {"python", "moonsock", "lua"} do
      local port = free_port()
      local wait = background(command(runner, "luasocket_echo_server", {port, "2"}))
      wait("listening")
      local out1 = helpers.run(command(runner, "luasocket_echo_client", {port}))
      local out2 = helpers.run(command(runner, "luasocket_echo_client", {port, "one", "two words", ""}))
      local server_out = wait():gsub("%d+", "N")
      outputs[runner] = out1 .. out2 .. server_out
    end
    assert.truthy(outputs.python:find("echo: two words\n", 1, true))
    assert.are.equal(outputs.python, outputs.moonsock)
    assert.are.equal(outputs.python, outputs.lua)
    local refused = helpers.run(command("moonsock", "luasocket_echo_client", {free_port()}))
    assert.are.equal("cannot connect: connection refused\n", refused)
  end)

  it("fetcher: the same under all three, and concurrent under moonsock", function()
    local portfile = os.tmpname()
    os.remove(portfile)
    local delay = 0.5
    os.execute("python3 spec/luasocket_scenarios/http_server.py " .. q(portfile) .. " " .. delay ..
      " > /dev/null 2>&1 & echo $! > " .. q(portfile .. ".pid"))
    local port
    for _ = 1, 200 do
      port = helpers.read_file(portfile)
      if port then break end
      task.sleep(0.05)
    end
    local pid = helpers.read_file(portfile .. ".pid"):match("%d+")
    os.remove(portfile)
    os.remove(portfile .. ".pid")
    local base = "http://127.0.0.1:" .. port
    local urls = {base .. "/", base .. "/slow/1", base .. "/nothing", base .. "/chunked"}
    local outputs = {}
    for _, runner in ipairs {"python", "moonsock", "lua"} do
      outputs[runner] = helpers.run(command(runner, "luasocket_fetch", urls))
    end
    local slow = {}
    for i = 1, 8 do slow[i] = base .. "/slow/" .. i end
    local t0 = task.now()
    local out = helpers.run(command("moonsock", "luasocket_fetch", slow))
    local elapsed = task.now() - t0
    os.execute("kill " .. pid)
    assert.truthy(outputs.python:find(" 404 10 bytes", 1, true))
    assert.are.equal(outputs.python, outputs.moonsock)
    assert.are.equal(outputs.python, outputs.lua)
    local _, lines = out:gsub("\n", "")
    assert.are.equal(8, lines)
    assert.is_true(elapsed < delay * 4, "8 slow requests took " .. elapsed .. " s")
  end)
end)
