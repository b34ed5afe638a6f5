-- The syscalls a task-per-connection echo server makes per message, counted
-- by strace (a count, not a time): one recv and one send per echo, as the
-- C epoll server makes, with no EAGAIN recv before each wait (a read that
-- emptied the buffer waits for the poll first) and no epoll_ctl per wait
-- (the poll keeps watching while its task comes back to wait again).
local h = require "spec.support.helpers"
local q = h.shell_quote

-- The client pauses before each message, so that the server has always
-- read everything and gone back to wait when the next one comes: the case
-- of a request/response peer, and the one where a read tried first fails.
local CONNS, ROUNDS, PAUSE = 4, 100, 0.003

local server = [[
local socket, task = require "socket", require "task"
local s = socket.create_server({"127.0.0.1", 0})
local f = assert(io.open(arg[1] .. ".tmp", "w"))
f:write(s:getsockname()[2]) f:close()
os.rename(arg[1] .. ".tmp", arg[1])
local tasks = {}
for i = 1, tonumber(arg[2]) do
  local conn = s:accept()
  tasks[i] = task.spawn(function()
    while true do
      local data = conn:recv(65536)
      if data == "" then break end
      conn:sendall(data)
    end
    conn:close()
  end)
end
for _, t in ipairs(tasks) do t:join(60) end
]]

local client = [[
local socket, task = require "socket", require "task"
local port, conns, rounds, pause = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
local msg = string.rep("m", 64)
local tasks = {}
for i = 1, conns do
  tasks[i] = task.spawn(function()
    local c = socket.create_connection({"127.0.0.1", port}, 30)
    for _ = 1, rounds do
      task.sleep(pause)
      c:sendall(msg)
      local got = ""
      while #got < 64 do got = got .. c:recv(64 - #got) end
      assert(got == msg)
    end
    c:close()
  end)
end
for _, t in ipairs(tasks) do t:join(60) end
print("ok")
]]

local function have(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
end

describe("the echo server's syscalls", function()
  if not have("strace") then
    pending("strace is not installed (scripts/setup installs it)")
    return
  end

  it("are one recv and one send per message, with no EAGAIN and no epoll_ctl per wait", function()
    local dir = h.tempdir()
    local sfile, cfile = dir .. "/server.lua", dir .. "/client.lua"
    for path, text in pairs {[sfile] = server, [cfile] = client} do
      local f = assert(io.open(path, "w")) f:write(text) f:close()
    end
    local portfile, counts = dir .. "/port", dir .. "/strace"
    -- LeakSanitizer cannot run under ptrace: a sanitized binary runs
    -- without it here (the rest of the suite checks leaks).
    os.execute("ASAN_OPTIONS=detect_leaks=0 timeout 120 strace -f -c -o " .. q(counts) ..
      " -e trace=recvfrom,sendto,epoll_ctl,epoll_wait " .. q(h.moonsock) .. " " .. q(sfile) ..
      " " .. q(portfile) .. " " .. CONNS .. " >/dev/null 2>&1 &")
    local port
    for _ = 1, 200 do
      local f = io.open(portfile)
      if f then port = f:read("n") f:close() break end
      os.execute("sleep 0.05")
    end
    assert.is_not_nil(port, "the server did not start")
    local out = h.run("timeout 120 " .. q(h.moonsock) .. " " .. q(cfile) .. " " .. port .. " " ..
      CONNS .. " " .. ROUNDS .. " " .. PAUSE)
    assert.are.equal("ok\n", out)
    local text
    for _ = 1, 400 do
      local f = io.open(counts)
      text = f and f:read("a")
      if f then f:close() end
      if text and text:find("total") then break end
      os.execute("sleep 0.05")
    end
    local calls, errs = {}, {}
    for line in text:gmatch("[^\n]+") do
      local fields = {}
      for w in line:gmatch("%S+") do fields[#fields + 1] = w end
      local name = fields[#fields]
      if name and tonumber(fields[4]) then
        calls[name] = tonumber(fields[4])
        errs[name] = #fields == 6 and tonumber(fields[5]) or 0
      end
    end
    local messages = CONNS * ROUNDS
    -- recv: one per message, one for each end of file, a few spare for a
    -- message that arrives in two segments.
    assert.is_true(calls.recvfrom >= messages + CONNS, text)
    assert.is_true(calls.recvfrom <= messages + CONNS + 20, text)
    assert.is_true(errs.recvfrom <= 10, text)
    assert.are.equal(messages, calls.sendto, text)
    -- epoll_ctl: a few per connection (add, modify, remove), not per wait.
    assert.is_true((calls.epoll_ctl or 0) <= CONNS * 6 + 10, text)
    os.execute("rm -rf " .. q(dir))
  end)
end)
