-- For the LuaSec specs that run one script under stock lua5.4 with Debian's
-- lua-sec (the reference) and under moonsock and compare the outputs.
-- PRELUDE gives the script wrap_pair and handshake, which drive a server and
-- a client connection in one process with settimeout(0), so that blocking
-- LuaSec can play both ends; run_both(body, args...) runs PRELUDE .. body
-- under both with args and returns both outputs, or raises if either fails.
local h = require "spec.support.helpers"

local M = {}

M.REFERENCE = "env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 timeout 60 lua5.4 "

M.PRELUDE = [[
local socket = require "socket"
local ssl = require "ssl"
-- wrap_pair(server_params, client_params) -> C, S; or nil and the server's
-- and the client's wrap errors
local function wrap_pair(sparams, cparams)
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  local c = assert(socket.connect("127.0.0.1", port))
  local a = assert(srv:accept())
  srv:close()
  local S, serr = ssl.wrap(a, sparams)
  local C, cerr = ssl.wrap(c, cparams)
  if not S or not C then return nil, serr, cerr end
  return C, S
end
-- handshake(C, S) -> cd, ce, sd, se: both handshakes driven to their end
local function handshake(C, S)
  S:settimeout(0)
  C:settimeout(0)
  local sd, cd, se, ce
  for _ = 1, 500 do
    if not cd then cd, ce = C:dohandshake() end
    if not sd then sd, se = S:dohandshake() end
    if (sd or se ~= "wantread" and se ~= "wantwrite") and (cd or ce ~= "wantread" and ce ~= "wantwrite") then
      break
    end
    socket.sleep(0.01)
  end
  return cd, ce, sd, se
end
]]

function M.run_both(body, ...)
  local path = h.write_temp(M.PRELUDE .. body, ".lua")
  local args = {h.shell_quote(path)}
  for i = 1, select("#", ...) do args[#args + 1] = h.shell_quote((select(i, ...))) end
  args = table.concat(args, " ")
  local want, werr, wcode = h.run(M.REFERENCE .. args)
  local got, gerr, gcode = h.run(h.shell_quote(h.moonsock) .. " " .. args)
  os.remove(path)
  if wcode ~= 0 then error("the reference failed: " .. werr, 2) end
  if gcode ~= 0 then error("moonsock failed: " .. gerr, 2) end
  return want, got
end

return M
