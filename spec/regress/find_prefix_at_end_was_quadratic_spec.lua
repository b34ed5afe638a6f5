-- asynchat.find_prefix_at_end(haystack, needle) followed Python's loop,
-- trying every prefix of needle from the longest down, each a new string:
-- quadratic in #needle. A terminator of a few megabytes never finished,
-- and the loop never let another task run. A prefix longer than haystack
-- cannot end it, so the loop now starts no higher than #haystack; the
-- answers are Python's.
local h = require "spec.support.helpers"

describe("find_prefix_at_end", function()
  it("answers as Python does, and at once for a huge needle", function()
    local cases = {{"ab", "bc"}, {"xab", "abc"}, {"", "ab"}, {"a", ""}, {"abab", "abac"}, {"aaa", "aaaa"}}
    local code = {"import warnings\nwarnings.simplefilter('ignore')\nimport asynchat"}
    for _, c in ipairs(cases) do
      code[#code + 1] = ("print(asynchat.find_prefix_at_end(b%q, b%q))"):format(c[1], c[2])
    end
    -- Python's own loop is quadratic too: a needle it still finishes
    code[#code + 1] = "print(asynchat.find_prefix_at_end(b'xab', b'ab' + b'x' * 3000))"
    local py = h.python(table.concat(code, "\n") .. "\n")
    local path = h.write_temp([[
local asynchat = require "asynchat"
for _, c in ipairs {{"ab", "bc"}, {"xab", "abc"}, {"", "ab"}, {"a", ""}, {"abab", "abac"}, {"aaa", "aaaa"}} do
  print(asynchat.find_prefix_at_end(c[1], c[2]))
end
print(asynchat.find_prefix_at_end("xab", "ab" .. string.rep("x", 3000)))
print(asynchat.find_prefix_at_end("xab", "ab" .. string.rep("x", 1 << 23)))
]], ".lua")
    local out, err, code_ = h.run("timeout 20 " .. h.shell_quote(h.moonsock) .. " " .. h.shell_quote(path))
    os.remove(path)
    assert.are.equal(0, code_, err)
    -- the huge needle's answer is the same as the 3000-byte one's
    local last = py:match("(%d+)\n$")
    assert.are.equal(py .. last .. "\n", out)
  end)
end)
