-- A timeout past 2^63 nanoseconds was refused as "timeout value is too
-- large" by the Lua modules and always as "timestamp out of range for
-- platform time_t" by the C ones. CPython's words depend on the conversion
-- that failed: a float out of range, or an int whose nanoseconds overflow
-- ("timestamp too large to convert to C _PyTime_t"). The Lua modules also
-- refused waits from threading.TIMEOUT_MAX up to 2^63 ns, which Python takes.
local socket = require "socket"
local select = require "select"
local selectors = require "selectors"
local task = require "task"
local h = require "spec.support.helpers"

-- Each case: python3's expression and moonsock's call, given the same value.
local cases = {
  {"socket.socket().settimeout(9223372037)", function() socket.socket():settimeout(9223372037) end},
  {"socket.socket().settimeout(1e10)", function() socket.socket():settimeout(1e10) end},
  {"select.select([], [], [], 2**62)", function() select.select({}, {}, {}, 1 << 62) end},
  {"select.poll().poll(-2**63)", function() select.poll():poll(math.mininteger) end},
  {"select.poll().poll(float('inf'))", function() select.poll():poll(math.huge) end},
  {"threading.Event().wait(9223372037)", function() task.Event():wait(9223372037) end},
  {"threading.Event().wait(1e10)", function() task.Event():wait(1e10) end},
  {"threading.Lock().acquire(True, 9223372037)", function() task.Lock():acquire(true, 9223372037) end},
  {"selectors.DefaultSelector().select(9223372037)", function() selectors.DefaultSelector():select(9223372037) end},
  {"selectors.DefaultSelector().select(1e19)", function() selectors.DefaultSelector():select(1e19) end},
}

describe("a timeout past the clock's range", function()
  it("is refused with CPython's words for an int and for a float", function()
    local lines = {"import socket, select, selectors, threading"}
    for _, c in ipairs(cases) do
      lines[#lines + 1] = ("try:\n    %s\n    print('accepted')\nexcept OverflowError as e:\n    print(e)"):format(c[1])
    end
    local expected = h.python(table.concat(lines, "\n") .. "\n")
    local got = {}
    for i, c in ipairs(cases) do
      -- a call that was accepted would wait: bound it
      local t = task.spawn(function() return pcall(c[2]) end)
      local joined, ok, err = pcall(t.join, t, 2)
      t:cancel()
      assert.is_true(joined, "call " .. i .. " waited")
      got[#got + 1] = ok and "accepted" or tostring(err):match("%((.*)%)$")
    end
    assert.are.equal(expected, table.concat(got, "\n") .. "\n")
    assert.is_truthy(expected:find("timestamp too large to convert to C _PyTime_t", 1, true))
    assert.is_truthy(expected:find("timestamp out of range for platform time_t", 1, true))
  end)

  it("takes a wait between TIMEOUT_MAX and 2^63 ns, as Python does", function()
    local py = h.python("import threading\ne = threading.Event(); e.set()\nprint(e.wait(9223372036.5))\n")
    assert.are.equal("True\n", py)
    local e = task.Event()
    e:set()
    assert.is_true(e:wait(9223372036.5))
  end)
end)
