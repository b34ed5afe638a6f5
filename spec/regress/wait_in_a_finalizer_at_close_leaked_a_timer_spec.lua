-- A finalizer that lua_close runs after the script's end and that waits
-- outside any task (os.execute in a __gc: spec/support/pki.lua removes its
-- directory so) parked the stand-in task with a timer made then, which no
-- __gc freed: 152 bytes lost, reported by LeakSanitizer in every TLS spec.
-- The runtime's teardown, the last finalizer, frees it now. Checked under
-- valgrind with the plain build (the sanitizer build checks itself in
-- scripts/test --sanitize).
local h = require "spec.support.helpers"

local VALGRIND = "valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"

describe("a wait in a finalizer at close", function()
  it("runs, and leaks nothing", function()
    local path = h.write_temp([[
local marker = arg[1]
gcobj = setmetatable({}, {__gc = function() os.execute("echo done > " .. marker) end})
]], ".lua")
    local marker = os.tmpname()
    local _, err, code = h.run(VALGRIND .. " bin/moonsock " .. h.shell_quote(path) .. " " .. h.shell_quote(marker))
    local done = h.read_file(marker)
    os.remove(path)
    os.remove(marker)
    assert.are.equal(0, code, err)
    assert.are.equal("done\n", done)
  end)
end)
