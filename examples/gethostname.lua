-- gethostname.lua
-- Source: ../shared/seeds/003_deff83d1aeb1e326.txt ("python标准库之【socket】"), the
--   interactive examples of gethostname(), gethostbyname(name) and
--   gethostbyname_ex(name) at the top of the document.
-- Shows: the session replayed: each call is echoed after ">>> " and its value
--   printed the way the interpreter shows it (repr); a failed lookup prints
--   the last line of the traceback ("socket.gaierror: ...").
--   gethostbyname(socket.gethostname()) resolves this machine's own name.
-- Usage: bin/moonsock examples/gethostname.lua [host ...]
--   The tutorial looked up www.fishc.com; this machine is offline, so the
--   hosts default to localhost, 127.0.0.1 and nosuchname.invalid (fails).
local socket = require "socket"
local repr = require "moonsock.repr"

local hosts = {"localhost", "127.0.0.1", "nosuchname.invalid"}
if #arg > 0 then hosts = arg end

-- Replays one line of the session: echo the call, then its value or error.
local function session(text, fn, ...)
  print(">>> " .. text)
  local res = table.pack(pcall(fn, ...))
  if res[1] then
    if res.n > 2 then
      print(repr.repr(repr.tuple(table.unpack(res, 2, res.n))))
    else
      print(repr.repr(res[2]))
    end
  elseif socket.gaierror:matches(res[2]) then
    print("socket.gaierror: " .. tostring(res[2]))
  else
    error(res[2], 0)
  end
end

session("socket.gethostname()", socket.gethostname)
for _, host in ipairs(hosts) do
  session(string.format("socket.gethostbyname(%s)", repr.repr(host)), socket.gethostbyname, host)
end
local myname = socket.gethostname()
session(string.format("socket.gethostbyname(%s)", repr.repr(myname)), socket.gethostbyname, myname)
for _, host in ipairs(hosts) do
  session(string.format("socket.gethostbyname_ex(%s)", repr.repr(host)),
    socket.gethostbyname_ex, host)
end
