-- The methods of urllib.parse's results, geturl and _replace, took any
-- self: r.geturl({}) answered "" and r._replace(nil, {}) failed in
-- rawget ("bad argument #1 to 'rawget'"). Python's named tuples raise
-- there (IndexError, AttributeError); moonsock says "bad self".
local parse = require "urllib.parse"

describe("result methods", function()
  it("refuse a self that is no result", function()
    for _, r in ipairs {parse.urlparse("http://h/p"), parse.urlsplit("http://h/p"), parse.urldefrag("http://h/p#f")} do
      for _, m in ipairs {"geturl", "_replace"} do
        for _, bad in ipairs {{}, "x", false} do
          local ok, err = pcall(r[m], bad, {})
          assert.is_false(ok, m)
          assert.matches("calling '" .. m .. "' on bad self", err, 1, true)
        end
      end
    end
  end)
end)
