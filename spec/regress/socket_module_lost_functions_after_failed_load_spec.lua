-- lua/socket.lua moved the C functions out of the core module
-- (moonsock.core.socket, cached in package.loaded) early on, and wrapped
-- some of the core's methods around the ones it found there. When loading
-- it failed after that point (out of memory), require "socket" failed, as
-- it should, but the next require ran the file again over the changed
-- core: socket.socketpair and the other functions were nil for good, and
-- each failed load wrapped the wrappers once more. Found by the allocation
-- sweep (spec/c/test_alloc.c, scenario "open", every allocation failing
-- from N on: about 50 N in a row); shown here without a failing allocator:
-- a count hook raises an error after k instructions of the load, for every
-- k until a load completes, and the module must then be the one a clean
-- load gives.
local h = require "spec.support.helpers"

-- What the module looks like: its functions, and how deep a method call
-- goes (a traceback through the wrappers of bind and connect_ex).
local PROBE = [[
  local socket = require "socket"
  local names = {}
  for k, v in pairs(socket) do
    if type(v) == "function" then names[#names + 1] = k end
  end
  table.sort(names)
  print(#names, table.concat(names, " "))
  local s = socket.socket()
  local _, tb = xpcall(s.bind, debug.traceback, s, {"127.0.0.1", -1})
  print(select(2, tb:gsub("\n", "\n")))
  s:close()
  print(s:connect_ex({"127.0.0.1", 1}))
  local a, b = socket.socketpair()
  a:sendall("ping")
  print(b:recv(4))
]]

local INTERRUPTED = [[
  require "moonsock.core.socket"
  -- The hook clears itself, so the error stays inside the pcall.
  local function interrupt()
    debug.sethook()
    error("interrupted", 0)
  end
  local function load(k)
    debug.sethook(interrupt, "", k)
    require "socket"
    debug.sethook()
  end
  local failures = 0
  for k = 1, 200000 do
    if pcall(load, k) then break end
    failures = failures + 1
  end
  print(failures > 100)
]] .. PROBE

describe("require 'socket' after loads that failed halfway", function()
  it("gives the module a clean load gives", function()
    local clean, err, code = h.moonsock_script(PROBE)
    assert.are.equal(0, code, err)
    local after, err2, code2 = h.moonsock_script(INTERRUPTED)
    assert.are.equal(0, code2, err2)
    assert.are.equal("true\n" .. clean, after)
  end)

  it("works as Python's: connect_ex on a closed socket, a round trip", function()
    local out, err, code = h.moonsock_script(INTERRUPTED)
    assert.are.equal(0, code, err)
    local py = h.python([[
import socket
s = socket.socket()
s.close()
print(s.connect_ex(("127.0.0.1", 1)))
a, b = socket.socketpair()
a.sendall(b"ping")
print(b.recv(4).decode())
]])
    local tail = out:match("^true\n[^\n]*\n[^\n]*\n(.*)$")
    assert.are.equal(py, tail)
  end)
end)
