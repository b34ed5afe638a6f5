-- The resolver's C functions read their string arguments with
-- luaL_checklstring, which turns a number into its text: gethostbyname(127)
-- looked up the host "127" (and answered 0.0.0.127), getservbyname(80)
-- looked for a service called "80", inet_aton(1) parsed "1". Python raises
-- TypeError for an int in each of them; here they are argument errors.
local socket = require "socket"
local h = require "spec.support.helpers"

describe("the resolver functions", function()
  it("refuse a number where Python wants a string, as Python does", function()
    local calls = {
      {"gethostbyname", {127}}, {"gethostbyname_ex", {127}}, {"gethostbyaddr", {127}},
      {"getservbyname", {80}}, {"getservbyname", {"http", 6}}, {"getservbyport", {80, 6}},
      {"getprotobyname", {6}}, {"inet_aton", {1}}, {"inet_ntoa", {1}}, {"inet_pton", {socket.AF_INET, 1}},
      {"inet_ntop", {socket.AF_INET, 1}}, {"if_nametoindex", {1}},
    }
    local code = {"import socket"}
    for i, c in ipairs(calls) do
      local args = {}
      for j, v in ipairs(c[2]) do args[j] = type(v) == "string" and ("'" .. v .. "'") or tostring(v) end
      code[#code + 1] = ("try:\n    socket.%s(%s)\n    print(%d, 'accepted')\n"
        .. "except TypeError:\n    print(%d, 'TypeError')"):format(c[1], table.concat(args, ", "), i, i)
    end
    local py = h.python(table.concat(code, "\n") .. "\n")
    for i, c in ipairs(calls) do
      assert.matches(i .. " TypeError\n", py, 1, true)
      local ok, err = pcall(socket[c[1]], table.unpack(c[2]))
      assert.is_false(ok, c[1])
      -- (called through pcall, Lua names the function by its module: 'socket.gethostbyname')
      assert.matches("bad argument #%d+ to '[%w.]-" .. c[1] .. "' %(string expected, got number%)", err)
    end
  end)
end)
