-- mime.core's codecs on fixed and pseudo-random inputs, every filter step
-- shape (first chunk, second chunk, end of stream) and every option.
local mime = require "mime.core"
local out = {}
local function show(...)
  local t = table.pack(...)
  for i = 1, t.n do
    local v = t[i]
    t[i] = type(v) == "string" and string.format("%q", v) or (tostring(v) .. ":" .. (math.type(v) or type(v)))
  end
  out[#out + 1] = t.n .. " " .. table.concat(t, " ")
end
local inputs = {"", "a", "ab", "abc", "abcd", "hello world\r\n", "=\r\n", "x=41y", "a \r\nb\t\r\nc",
  "\0abc", "line1\nline2\rline3\r\n\n\r", "..\r\n.\r\n.x", "YWJj", "YW=", "Y W J j", "=4", "=G1",
  "caf\xc3\xa9 =\r\n", string.rep("0123456789", 20), "\r", "\r\n", " ", "  \r\n", "a\r", "=\r", "\t\r\n"}
-- deterministic pseudo-random bytes
local seed = 7
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end
for _ = 1, 30 do
  local t = {}
  for i = 1, rnd(40) do
    t[i] = string.char(({10, 13, 32, 61, 46, 9, 0, 200, 65 + rnd(26), 48 + rnd(10)})[rnd(10) + 1])
  end
  inputs[#inputs + 1] = table.concat(t)
end
for _, c in ipairs(inputs) do
  show(mime.b64(c)) show(mime.b64(c, "x")) show(mime.b64(c, ""))
  show(mime.unb64(c)) show(mime.unb64(c, "QQ")) show(mime.unb64(c, ""))
  show(mime.qp(c)) show(mime.qp(c, "z\r")) show(mime.qp(c, "", "\n"))
  show(mime.unqp(c)) show(mime.unqp(c, "=4")) show(mime.unqp(c, ""))
  for _, l in ipairs{0, 1, 3, 5, 76} do
    show(mime.wrp(l, c)) show(mime.wrp(l, c, 4)) show(mime.qpwrp(l, c)) show(mime.qpwrp(l, c, 5))
  end
  for _, ctx in ipairs{0, 10, 13} do show(mime.eol(ctx, c)) show(mime.eol(ctx, c, "\n")) end
  for _, st in ipairs{0, 1, 2} do show(mime.dot(st, c)) end
end
show(mime.b64(nil)) show(mime.unb64(nil)) show(mime.qp(nil)) show(mime.unqp(nil))
show(mime.wrp(3, nil)) show(mime.wrp(76, nil)) show(mime.qpwrp(3, nil)) show(mime.qpwrp(76, nil, 80))
show(mime.eol(13, nil)) show(mime.dot(1, nil))
print(table.concat(out, "\n"))
