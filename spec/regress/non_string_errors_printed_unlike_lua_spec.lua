-- Issue 14, item 7 (the error texts): `error({})` printed "table: 0x…" and
-- `error(nil)` "nil", where lua.c prints "(error object is a table value)";
-- an object whose __tostring gives a string got a traceback lua.c does not
-- print. errors.describe now says, with its text, whether a traceback
-- follows; the command (src/cli/report.c), a task's end (src/scheduler.c)
-- and the REPL (lua/repl.lua) follow it. Compared with lua5.4 itself, as a
-- script and in the REPL (stdin piped: the same errors on stderr).
local h = require "spec.support.helpers"

local CASES = {
  "error({})",
  "error(nil)",
  "error(true)",
  "error(5.5)",
  "error('text', 0)",
  'error(setmetatable({}, {__tostring = function() return "X" end}))',
  'error(setmetatable({}, {__tostring = function() return {} end}))',
}

-- The first line of stderr without the program's name, and whether a
-- traceback follows.
local function shape(err, progname)
  local first = err:match("^[^\n]*"):gsub("^" .. progname:gsub("%p", "%%%0") .. ": ", "")
  return first .. (err:find("\nstack traceback:", 1, true) and " +traceback" or "")
end

describe("a non-string error", function()
  for _, code in ipairs(CASES) do
    it("is printed as lua5.4 prints it: " .. code, function()
      local path = h.write_temp(code .. "\n", ".lua")
      local _, lerr, lrc = h.run("lua5.4 " .. h.shell_quote(path))
      local _, merr, mrc = h.run(h.shell_quote(h.moonsock) .. " " .. h.shell_quote(path))
      os.remove(path)
      assert.are.equal(shape(lerr, "lua5.4"), shape(merr, h.moonsock))
      assert.are.equal(lrc, mrc)
    end)
  end

  it("is printed in the REPL as in lua5.4's", function()
    local path = h.write_temp(table.concat(CASES, "\n") .. "\n", ".txt")
    local _, lerr = h.run("lua5.4 -i < " .. h.shell_quote(path))
    local _, merr = h.run(h.shell_quote(h.moonsock) .. " -i < " .. h.shell_quote(path))
    os.remove(path)
    -- lua.c's traceback ends in its own C frame; the REPL leaves its own out
    local function strip(s) return (s:gsub("\n\t%[C%]: in %?", "")) end
    assert.are.equal(strip(lerr), strip(merr))
  end)
end)
