-- Issue 7: every public function and method is called with each wrong type
-- and out-of-range value, and with a wrong self, and must answer with a Lua
-- error naming the argument or with the exception Python raises for the
-- same call; never crash, hang or leave the runtime broken.
--
-- The list of functions is docs/api.md's, read now: one it() per prefix
-- ("socket", "sock", "file"...). The model of arguments, the receivers and
-- the Python counterparts are in spec/support/argcheck.lua, which also runs
-- the calls: moonsock's in child processes (a crash fails one call, the
-- next child goes on after it), Python's in python3 with the same values.
local ac = require "spec.support.argcheck"
local h = require "spec.support.helpers"

local entries = ac.entries(ac.read_doc())
local cases, problems = ac.cases(entries)
local groups = ac.groups(cases)

describe("argument checking", function()
  local tmp

  setup(function() tmp = h.tempdir() end)
  teardown(function() os.execute("rm -rf " .. h.shell_quote(tmp)) end)

  it("has an argument model for every documented function and method", function()
    assert.are.same({}, problems)
    -- The doc lists a few hundred callables; a parser that finds far fewer
    -- has lost its way, not the doc.
    assert.is_true(#entries > 300, "only " .. #entries .. " documented callables")
    assert.is_true(#cases > 4000, "only " .. #cases .. " calls")
  end)

  for _, g in ipairs(groups) do
    local what = g.cases[1].entry.sep == "." and g.name .. " functions" or g.name .. " methods"
    it("answers wrong arguments to " .. what .. " as Python does (" .. #g.cases .. " calls)", function()
      local dir = tmp .. "/" .. g.name
      assert(os.execute("mkdir -p " .. h.shell_quote(dir)))
      local lua = ac.run_lua(h.moonsock, g, dir)
      local py = ac.run_python(g, dir)
      local failures = {}
      for _, c in ipairs(g.cases) do
        local why = ac.judge(c, lua[c.id], py[c.id])
        if why then failures[#failures + 1] = c.title .. ": " .. why end
      end
      assert.are.same({}, failures)
      -- Every case answered, and Python's answers were there to compare.
      for _, c in ipairs(g.cases) do assert.is_table(lua[c.id], c.title) end
      for _, c in ipairs(g.cases) do
        if c.python then assert.is_table(py[c.id], c.title .. " (Python)") end
      end
    end)
  end

  -- Bugs in files this sweep does not change, whose fixes are proposed to
  -- their owners: the sweep expects them to fail until then (and says when
  -- one is fixed), and they show here.
  local seen = {}
  for _, p in ipairs(ac.PENDING) do
    if not seen[p.why] then
      seen[p.why] = true
      pending(p.file .. ": " .. p.why)
    end
  end
end)
