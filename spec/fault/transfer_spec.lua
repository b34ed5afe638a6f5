-- Fault: a large transfer. 1 GiB goes through sendall and recv, between two
-- tasks of one child moonsock, over loopback TCP and over a socketpair.
-- The stream is 1,024 blocks of 1 MiB (the block number, then a fixed
-- pattern); the receiver pipes every byte it gets to sha256sum, whose digest
-- must equal python3's of the same stream. The child's peak RSS (VmHWM) must
-- stay under MAX_RSS_MIB: the transfer never holds more than a few blocks.
-- Measured (x86-64, 2 cores, plain release build): the transfer alone
-- moves 1 GiB in about 0.5 s over TCP and over the socketpair; with every
-- byte piped through sha256sum, about 7 s each. Peak RSS about 11 MiB; the
-- bound is MAX_RSS_MIB = 64. Under AddressSanitizer (shadow memory, and a
-- quarantine of up to 256 MiB of freed blocks) the peak is about 316 MiB and
-- the bound MAX_RSS_ASAN_MIB = 768.
-- Bounded: timeout(1) kills the child after 600 s.
local h = require "spec.support.helpers"

local MAX_RSS_MIB, MAX_RSS_ASAN_MIB = 64, 768

local SCRIPT = [[
local socket = require "socket"
local task = require "task"
local fault = require "spec.fault.support"

local BLOCKS, BLOCK = 1024, 1 << 20
-- The pattern byte at offset i of a block is (i * 7 + 3) % 251; the first 8
-- bytes are replaced by the block number.
local parts, digits = {}, {}
for k = 0, BLOCK // 4096 - 1 do
  for i = 1, 4096 do digits[i] = string.char(((k * 4096 + i - 1) * 7 + 3) % 251) end
  parts[k + 1] = table.concat(digits)
end
local base = table.concat(parts):sub(9)
parts = nil

local function transfer(name, a, b)
  a:settimeout(60)
  b:settimeout(60)
  local t0 = task.now()
  local sender = task.spawn(function()
    for i = 0, BLOCKS - 1 do a:sendall(string.pack("<I8", i) .. base) end
    a:shutdown(socket.SHUT_WR)
  end)
  local sum = assert(io.popen("sha256sum", "w"))
  local total = 0
  while true do
    local chunk = b:recv(1 << 18)
    if chunk == "" then break end
    total = total + #chunk
    sum:write(chunk)
  end
  sender:join(60)
  local elapsed = task.now() - t0
  io.stdout:flush()
  io.write(name, " ", total, " ")
  io.stdout:flush()
  sum:close()
  io.write(string.format("%.2f\n", elapsed))
  a:close()
  b:close()
end

local srv = socket.create_server({"127.0.0.1", 0})
local c = socket.create_connection(srv:getsockname(), 5)
local conn = srv:accept()
srv:close()
transfer("tcp", c, conn)
transfer("socketpair", socket.socketpair())
print("rss " .. fault.status_kib("VmHWM") .. " " .. tostring(fault.sanitized()))
]]

describe("1 GiB through sendall and recv", function()
  it("arrives intact over loopback TCP and a socketpair, in bounded memory", function()
    local script = h.write_temp(SCRIPT, ".lua")
    local out, err, code = h.run(string.format("timeout 600 %s %s", h.shell_quote(h.moonsock),
      h.shell_quote(script)))
    os.remove(script)
    assert.are.equal(0, code, err)
    local expected = h.python([[
import hashlib, struct
base = bytes((i * 7 + 3) % 251 for i in range(1 << 20))[8:]
s = hashlib.sha256()
for i in range(1024):
    s.update(struct.pack("<Q", i) + base)
print(s.hexdigest())
]]):gsub("\n$", "")
    local n = 0
    for name, total, digest, secs in out:gmatch("(%a+) (%d+) (%x+)  %-\n([%d.]+)\n") do
      n = n + 1
      assert.are.equal(tostring(1 << 30), total, name)
      assert.are.equal(expected, digest, name)
      assert.is_true(tonumber(secs) < 300, name .. " took " .. secs .. " s")
    end
    assert.are.equal(2, n, out)
    local rss, asan = out:match("rss (%d+) (%a+)")
    local bound = (asan == "true" and MAX_RSS_ASAN_MIB or MAX_RSS_MIB) * 1024
    assert.is_true(tonumber(rss) < bound, "peak RSS " .. rss .. " KiB, bound " .. bound .. " KiB")
  end)
end)
