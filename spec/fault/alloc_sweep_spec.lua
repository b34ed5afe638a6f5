-- Lua memory errors, swept (issue 7): spec/c/test_alloc.c refuses Lua's
-- allocations at each point N of seven scenarios (and, as a variant, every
-- allocation from N on), and checks that every run ends with its result or
-- a memory error, that the state still works afterwards, and that nothing
-- leaks. This file runs that program and makes each of its TAP lines a
-- busted result, so that `scripts/test --sanitize` sweeps the sanitizer
-- build too: bin-asan/tests/test_alloc when the interpreter running this
-- file is bin-asan/moonsock, bin/tests/test_alloc otherwise.
-- spec/c/run already runs the plain build's full sweep (and a short one
-- under valgrind), so the plain interpreter runs a short sweep here; the
-- sanitizer build runs the full one, and its reports end the child that
-- made them (spec/c/test_alloc.c counts that as a crash) or reach
-- scripts/test's log directory.
local h = require "spec.support.helpers"

local interpreter = arg and arg[-1] or h.moonsock
local sanitized = interpreter:find("bin%-asan/moonsock$") ~= nil or h.moonsock:find("bin%-asan/moonsock$") ~= nil
local program = sanitized and "bin-asan/tests/test_alloc" or "bin/tests/test_alloc"
local points = sanitized and "" or " --points 60"

-- Run once, when the file loads: busted needs the results to name its tests.
local lines, plan, status = {}, nil, nil
do
  local f = io.open(program)
  if f then
    f:close()
    local p = assert(io.popen(string.format("timeout 1200 %s%s 2>&1", program, points)))
    for line in p:lines() do
      lines[#lines + 1] = line
      plan = tonumber(line:match("^1%.%.(%d+)$")) or plan
    end
    local _, _, code = p:close()
    status = code
  end
end

describe("allocation failures swept by " .. program, function()
  if #lines == 0 then
    it("was built", function()
      assert.is_true(false, program .. " is missing or printed nothing (scripts/build"
        .. (sanitized and " with MOONSOCK_SANITIZE=1" or "") .. ")")
    end)
    return
  end

  local count, failures, diagnostics = 0, 0, {}
  for _, line in ipairs(lines) do
    local bad = line:match("^not ok %d+ %- (.*)$")
    local text = bad or line:match("^ok %d+ %- (.*)$")
    if text then
      count = count + 1
      local failed = bad ~= nil
      if failed then failures = failures + 1 end
      local notes = diagnostics
      diagnostics = {}
      it(text, function()
        -- The diagnostics printed before a line belong to it (its failing N).
        assert.is_false(failed, text .. "\n" .. table.concat(notes, "\n"))
      end)
    elseif line:find("^#") then
      diagnostics[#diagnostics + 1] = line
    end
  end

  it("ended with its plan, and exit status 0 unless a check failed", function()
    assert.are.equal(count, plan, "the program stopped before its plan")
    if failures == 0 then assert.are.equal(0, status, table.concat(diagnostics, "\n")) end
  end)
end)
