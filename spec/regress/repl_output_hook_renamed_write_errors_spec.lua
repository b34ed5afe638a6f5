-- Once the REPL hooked output (repl.serve, the prompt's guard), a file's
-- write refused a wrong value as "bad argument #2 to 'raw_write'" instead
-- of io's own "bad argument #1 to 'write'", for every file.
local h = require "spec.support.helpers"
local q = h.shell_quote

describe("file:write after the REPL hooked output", function()
  it("refuses wrong values with io's own messages", function()
    local code = [[
local path = os.tmpname()
local f = assert(io.open(path, "w"))
for _, args in ipairs {{true}, {"ok", {}}, {"ok", 1, io.stdout}} do
  print(select(2, pcall(function() f:write(table.unpack(args, 1, 3)) end)))
end
f:close() os.remove(path)]]
    local want = h.run("lua5.4 -e " .. q(code))
    local got = h.run(q(h.moonsock) .. " -e " .. q('require("repl").guard_output(nil) ' .. code))
    assert.are.equal(want, got)
    assert.matches("bad argument #1 to 'write' %(string expected, got boolean%)", want)
  end)
end)
