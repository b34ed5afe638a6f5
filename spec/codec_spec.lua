-- lua/moonsock/codec.lua against python3's codecs. python3 decodes and
-- encodes the same tricky bytes (invalid start bytes, overlong forms,
-- encoded surrogates, code points past U+10FFFF, truncated sequences) and
-- seeded-random ones, under every handler the module takes, and prints its
-- answer; the Lua side must give the same bytes or the same exception.
-- Text is compared as Python's str.encode('utf-8', 'surrogateescape') of
-- it, the Lua module's own representation of text (its header).
local codec = require "moonsock.codec"
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

local PY = [==[
import codecs, random

FIXED = [b"", b"abc", b"\x00", b"\x7f\x80", b"\x80", b"\xbf", b"\xff", b"\xfe\xff",
         b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xe0\x9f\xbf", b"\xf0\x80\x80\xaf",
         b"\xf0\x8f\xbf\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xb2\x80", b"\xed\x9f\xbf",
         b"\xf4\x90\x80\x80", b"\xf4\x8f\xbf\xbf", b"\xf5\x80\x80\x80", b"\xf8\x88\x80\x80\x80",
         b"\xc3", b"a\xc3", b"\xe2\x82", b"\xe2\x82a", b"\xe2\x82\xac", b"\xf0\x9f\x98",
         b"\xf0\x9f\x98\x80", b"\xf0\x9f\x98a\xf0", b"\xc3\xa9\xff\xc3\xa9", b"caf\xe9",
         b"\xc3\xa9t\xc3\xa9", b"\xe2\x82\xac\x80\xe2", b"\xc2\x80\xc2\x9f\xc2\xa0",
         "\u0100\u20ac\U0001f600".encode()]
R = random.Random(7)
POOL = [0x41, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0,
        0xf3, 0xf4, 0xf5, 0xff]
RANDOM = [bytes(R.choice(POOL) for _ in range(R.randint(1, 8))) for _ in range(300)]

def answer(f):
    try:
        return "=" + f().hex()
    except Exception as e:
        return "!%s: %s" % (type(e).__name__, e)

ENCODINGS = ["utf-8", "latin-1", "ascii"]
for b in FIXED + RANDOM:
    text = b.decode("utf-8", "surrogateescape")
    print("chars", "", "", b.hex(), ",".join(str(ord(c)) for c in text), sep="|")
    for enc in ENCODINGS:
        for errs in ["strict", "replace", "ignore", "backslashreplace", "surrogateescape"]:
            r = answer(lambda: b.decode(enc, errs).encode("utf-8", "surrogateescape"))
            print("decode", enc, errs, b.hex(), r, sep="|")
        # A stray byte is text's own representation of U+DC80..U+DCFF: the
        # module encodes text as UTF-8 by keeping its bytes (its header),
        # what Python does under surrogateescape alone.
        for errs in (["surrogateescape"] if enc == "utf-8" else
                     ["strict", "replace", "ignore", "backslashreplace", "xmlcharrefreplace", "surrogateescape"]):
            print("encode", enc, errs, b.hex(), answer(lambda: text.encode(enc, errs)), sep="|")

for name in ["utf-8", "UTF8", "u8", "utf_8", " utf-8 ", "cp65001", "latin-1", "Latin1", "ISO-8859-1",
             "iso8859_1", "l1", "cp819", "ascii", "US-ASCII", "646", "ANSI_X3.4-1968", "us",
             "koi8-x", "", "utf-9", "latin-2x"]:
    try:
        print("lookup", name, "", "", "=" + codecs.lookup(name).name, sep="|")
    except Exception as e:
        print("lookup", name, "", "", "!%s: %s" % (type(e).__name__, e), sep="|")
]==]

local PYTHON_NAME = {["utf-8"] = "utf-8", ["latin-1"] = "iso8859-1", ascii = "ascii"}

local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function unhex(s) return (s:gsub("..", function(x) return string.char(tonumber(x, 16)) end)) end

-- Our answer written as python3 writes its own.
local function answer(f)
  local ok, r = pcall(f)
  if ok then return "=" .. hex(r) end
  local cls = getmetatable(r)
  if type(cls) == "table" and errors.Exception:matches(r) then return "!" .. cls.__name .. ": " .. tostring(r) end
  error(r, 0)
end

local function no_fail(msg) error("fail called: " .. msg) end

describe("moonsock.codec", function()
  local cases = {}
  setup(function()
    for line in h.python(PY):gmatch("[^\n]+") do
      local op, enc, errs, input, want = line:match("^(%a+)|(.-)|(.-)|(%x*)|(.*)$")
      cases[#cases + 1] = {op = op, enc = enc, errs = errs, input = unhex(input), want = want}
    end
  end)

  it("sees the characters Python's surrogateescape decoding sees", function()
    local n, bad = 0, {}
    for _, c in ipairs(cases) do
      if c.op == "chars" then
        n = n + 1
        local cps = {}
        for cp in codec.chars(c.input) do cps[#cps + 1] = cp end
        local got = table.concat(cps, ",")
        if got ~= c.want then bad[#bad + 1] = hex(c.input) .. ": " .. got .. " ~= " .. c.want end
      end
    end
    assert.are.same({}, bad)
    assert.is_true(n > 300)
  end)

  for _, op in ipairs {"decode", "encode"} do
    it(op .. "s as bytes." .. op .. " does under each handler", function()
      local n, bad = 0, {}
      for _, c in ipairs(cases) do
        if c.op == op then
          n = n + 1
          local got = answer(function() return codec[op](c.input, codec.lookup(c.enc), c.errs, no_fail) end)
          if got ~= c.want then
            bad[#bad + 1] = ("%s %s %s %s: %s ~= %s"):format(op, c.enc, c.errs, hex(c.input), got, c.want)
          end
        end
      end
      assert.are.same({}, bad)
      assert.is_true(n > 3000)
    end)
  end

  it("finds a codec under Python's names for it", function()
    local n = 0
    for _, c in ipairs(cases) do
      if c.op == "lookup" then
        n = n + 1
        local ok, r = pcall(codec.lookup, c.enc)
        local got = ok and "=" .. PYTHON_NAME[r.name] or "!" .. getmetatable(r).__name .. ": " .. tostring(r)
        assert.are.equal(c.want, got, c.enc)
      end
    end
    assert.are.equal(21, n)
  end)

  it("refuses the handlers it does not support through the caller's fail", function()
    local function fail(msg) error("FAIL " .. msg, 0) end
    local latin1, utf8c = codec.lookup("latin-1"), codec.lookup("utf-8")
    assert.are.equal("FAIL error handler 'namereplace' is not supported",
      select(2, pcall(codec.encode, "\u{20AC}", latin1, "namereplace", fail)))
    assert.are.equal("FAIL error handler 'surrogatepass' is not supported",
      select(2, pcall(codec.decode, "\xff", utf8c, "surrogatepass", fail)))
    assert.are.equal("FAIL don't know how to handle UnicodeDecodeError in error callback",
      select(2, pcall(codec.decode, "\xff", utf8c, "xmlcharrefreplace", fail)))
  end)
end)
