-- A host with a NUL inside, {"::1\0junk", port}, reached inet_pton as the C
-- string "::1": bind, connect and sendto used ::1 where CPython refuses the
-- address with TypeError("host name must not contain null character")
-- before any lookup. Found by spec/fuzz/fuzz_sockaddr.c.
local socket = require "socket"
local h = require "spec.support.helpers"

describe("an AF_INET6 host with an embedded NUL", function()
  local py = h.python([[
import socket
for call in ("bind", "connect", "sendto"):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        if call == "sendto": s.sendto(b"x", ("::1\0junk", 9))
        else: getattr(s, call)(("::1\0junk", 9))
        print(call, "accepted")
    except TypeError as e: print(call, "TypeError", e)
    s.close()
]])

  it("is refused by bind, connect and sendto with CPython's TypeError text", function()
    local lines = {}
    for _, call in ipairs {"bind", "connect", "sendto"} do
      local s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
      local ok, err
      if call == "sendto" then
        ok, err = pcall(s.sendto, s, "x", {"::1\0junk", 9})
      else
        ok, err = pcall(s[call], s, {"::1\0junk", 9})
      end
      s:close()
      if ok then
        lines[#lines + 1] = call .. " accepted"
      else
        -- Python's TypeError is an argument error here: its text is in the parentheses.
        local text = tostring(err):match("bad argument #%d to '" .. call .. "' %((.*)%)$")
        lines[#lines + 1] = call .. " TypeError " .. tostring(text)
      end
    end
    assert.are.equal(py, table.concat(lines, "\n") .. "\n")
  end)

  it("still leaves the host before the NUL usable without it", function()
    local s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s:bind({"::1", 0})
    assert.are.equal("::1", s:getsockname()[1])
    s:close()
  end)
end)
