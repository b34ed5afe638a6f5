-- quote() memoized the pattern it builds for each `safe` string in a table
-- that was never trimmed: a program quoting with ever new safe strings
-- (a fuzzer does, a server echoing client choices could) grew without
-- bound, each entry holding the safe string and a pattern twice its size.
-- CPython keeps these quoters in functools.lru_cache, 128 of them; so does
-- moonsock now. Seen as the RSS of spec/fuzz/fuzz_urlparse.c kept climbing.
local parse = require "urllib.parse"
local h = require "spec.support.helpers"

describe("urllib.parse.quote", function()
  it("keeps at most as many safe-string patterns as CPython's lru_cache", function()
    local maxsize = tonumber(h.python(
      "import urllib.parse\nprint(urllib.parse._byte_quoter_factory.cache_parameters()['maxsize'])\n"))
    local pad = ("-"):rep(1000)
    local function kib_after(n, tag)
      collectgarbage()
      collectgarbage()
      local before = collectgarbage("count")
      for i = 1, n do parse.quote("a b", tag .. i .. pad) end
      collectgarbage()
      collectgarbage()
      return collectgarbage("count") - before
    end
    -- Fill the cache, then go on with 50 times as many new strings: what it
    -- holds must stay about what a full cache holds (each entry is > 1 KiB).
    local full = kib_after(maxsize, "warm")
    local more = kib_after(maxsize * 50, "more")
    assert.is_true(full > maxsize, "a full cache holds " .. full .. " KiB")
    assert.is_true(more < full * 2, string.format("%.0f KiB after %d new safe strings (a full cache: %.0f KiB)",
      more, maxsize * 50, full))
  end)
end)
