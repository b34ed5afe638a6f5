-- LuaSocket's API against the reference: each scenario of
-- spec/luasocket_scenarios/ runs under stock lua5.4 with Debian's lua-socket
-- and under moonsock, and prints every result with its type; the two
-- outputs must be the same, line for line.
--
-- Run: bin/moonsock /usr/bin/busted spec/luasocket_compat_spec.lua
local helpers = require "spec.support.helpers"

local q = helpers.shell_quote
local dir = "spec/luasocket_scenarios/"

-- lua5.4 must find Debian's LuaSocket, never moonsock's modules.
local REFERENCE = "env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 timeout 60 lua5.4 "

local function run_both(name)
  local ref, referr, refrc = helpers.run(REFERENCE .. q(dir .. name))
  assert(refrc == 0, "lua5.4 failed on " .. name .. ": " .. referr)
  local out, err, rc = helpers.run("timeout 60 " .. q(helpers.moonsock) .. " " .. q(dir .. name))
  assert(rc == 0, "moonsock failed on " .. name .. ": " .. err)
  return ref, out
end

describe("LuaSocket compatibility with lua5.4 + Debian lua-socket", function()
  for _, name in ipairs {"tcp.lua", "udp.lua", "unix.lua", "module.lua", "mime_codecs.lua"} do
    it("gives the reference's results: " .. name, function()
      local ref, out = run_both(name)
      assert.is_true(#ref > 0)
      local ref_lines, out_lines = {}, {}
      for l in ref:gmatch("[^\n]*") do ref_lines[#ref_lines + 1] = l end
      for l in out:gmatch("[^\n]*") do out_lines[#out_lines + 1] = l end
      for i = 1, math.max(#ref_lines, #out_lines) do
        assert.are.equal(ref_lines[i], out_lines[i], name .. " line " .. i)
      end
    end)
  end
end)

describe("moonsock loaded into a stock lua5.4", function()
  local cpath = "LUA_CPATH=" .. q("lib/lua/5.4/?.so;;") .. " timeout 60 lua5.4 -e "
  it("takes over a LuaSocket loaded before it: one combined socket module", function()
    local out, err, rc = helpers.run(cpath .. q([[
      local ls = require "socket"
      local moonsock = require "moonsock"
      print(moonsock.socket == ls, require("socket") == ls, require("socket.core") == ls,
            type(ls.create_server), type(ls.tcp), tostring(ls.tcp()):match("^[^:]*"))]]))
    assert(rc == 0, err)
    assert.are.equal("true\ttrue\ttrue\tfunction\tfunction\ttcp{master}\n", out)
  end)

  it("gives the combined module when moonsock comes first, and moonsock's mime.core", function()
    local out, err, rc = helpers.run(cpath .. q([[
      local moonsock = require "moonsock"
      local s = require "socket"
      print(moonsock.socket == s, type(s.create_server), type(s.tcp), require("mime.core").b64("hi"),
            package.preload["mime.core"] ~= nil, package.preload["socket.unix"] ~= nil)]]))
    assert(rc == 0, err)
    assert.are.equal("true\tfunction\tfunction\taGk=\ttrue\ttrue\n", out)
  end)
end)
