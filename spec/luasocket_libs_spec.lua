-- LuaSocket's own Lua modules from Debian's lua-socket, unchanged, on
-- moonsock, against python3 servers on loopback: socket.http and ltn12
-- (http.server), socket.smtp (aiosmtpd), socket.ftp (pyftpdlib). The same
-- client script under lua5.4 + LuaSocket and under moonsock must print the
-- same; and 100 requests in 100 tasks take about the time of one.
--
-- Run: bin/moonsock /usr/bin/busted spec/luasocket_libs_spec.lua
local helpers = require "spec.support.helpers"
local task = require "task"

local q = helpers.shell_quote
local dir = "spec/luasocket_scenarios/"
local REFERENCE = "env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 timeout 60 lua5.4 "
-- /slow's delay: the concurrent requests must overlap it.
local DELAY = 0.5

-- start(script, ...) -> port, pid of a python3 server that writes its port
-- to a file when it listens.
local function start(python, script, ...)
  local portfile, pidfile = os.tmpname(), os.tmpname()
  os.remove(portfile)
  local args = {}
  for i = 1, select("#", ...) do args[i] = q((select(i, ...))) end
  os.execute(python .. " " .. q(dir .. script) .. " " .. q(portfile) .. " " .. table.concat(args, " ") ..
    " >/dev/null 2>&1 & echo $! > " .. q(pidfile))
  local pid = helpers.read_file(pidfile):match("%d+")
  os.remove(pidfile)
  local port
  for _ = 1, 200 do
    port = helpers.read_file(portfile)
    if port and port ~= "" then break end
    task.sleep(0.05)
  end
  os.remove(portfile)
  assert(port, "the python3 server did not start")
  return port, pid
end

-- The lines of out whose first word is who, in their order: what one of
-- several concurrent clients printed.
local function lines_of(out, who)
  local mine = {}
  for line in out:gmatch("[^\n]+") do
    if line:match("^%S+") == who then mine[#mine + 1] = line end
  end
  return mine
end

-- under_both(script, args...): the client's output under moonsock and
-- under the reference.
local function under_both(script, ...)
  local args = {}
  for i = 1, select("#", ...) do args[i] = q((select(i, ...))) end
  args = table.concat(args, " ")
  local ref, referr, refrc = helpers.run(REFERENCE .. q(dir .. script) .. " " .. args)
  assert(refrc == 0, referr)
  local out, err, rc = helpers.run("timeout 60 " .. q(helpers.moonsock) .. " " .. q(dir .. script) .. " " .. args)
  assert(rc == 0, err)
  return out, ref
end

-- same_as_reference(script, args...): the client under both, compared.
local function same_as_reference(script, ...)
  local out, ref = under_both(script, ...)
  assert.are.equal(ref, out)
  return out
end

-- Debian's python3 modules (aiosmtpd, pyftpdlib) import only there.
local DEBIAN_PYTHON = "/usr/bin/python3"

describe("socket.http from Debian's lua-socket", function()
  local port, pid
  setup(function() port, pid = start("python3", "http_server.py", tostring(DELAY)) end)
  teardown(function() if pid then os.execute("kill " .. pid) end end)

  it("GET, POST with an ltn12 source, redirects, chunked: as under lua5.4", function()
    local out = same_as_reference("http_client.lua", port)
    assert.truthy(out:find('chunked -> 4: 1513:integer, "first,second,thirdth", 200:integer', 1, true))
  end)

  it("runs 100 requests in 100 tasks in about the time of one", function()
    local http = require "socket.http"
    local results = {}
    local start_time = task.now()
    local tasks = {}
    for i = 1, 100 do
      tasks[i] = task.spawn(function()
        local body, code = http.request("http://127.0.0.1:" .. port .. "/slow/" .. i)
        results[i] = {body, code}
      end)
    end
    for _, t in ipairs(tasks) do t:join(30) end
    local elapsed = task.now() - start_time
    for i = 1, 100 do
      assert.are.same({"/slow/" .. i, 200}, results[i])
    end
    -- one at a time would take 100 * DELAY = 50 s
    assert.is_true(elapsed < DELAY * 6, "100 requests took " .. elapsed .. " s")
  end)
end)

describe("socket.smtp from Debian's lua-socket", function()
  local port, pid
  local mails = os.tmpname()
  setup(function() port, pid = start(DEBIAN_PYTHON, "smtp_server.py", mails) end)
  teardown(function()
    if pid then os.execute("kill " .. pid) end
    os.remove(mails)
  end)

  it("sends a mail to an aiosmtpd sink as under lua5.4", function()
    local out = same_as_reference("smtp_client.lua", port)
    assert.truthy(out:find("send -> 1: 1:integer", 1, true))
    local got = helpers.read_file(mails)
    local _, count = got:gsub("FROM alice@example.org\nTO bob@example.org\nTO carol@example.org\n", "")
    assert.are.equal(2, count)
    -- the body's dot-stuffing went out and came back undone
    assert.truthy(got:find("\r\n.a line that starts with a dot\r\n", 1, true))
  end)
end)

describe("socket.ftp from Debian's lua-socket", function()
  local port, pid
  local root = helpers.tempdir()
  setup(function()
    local f = assert(io.open(root .. "/hello.txt", "wb"))
    f:write("hello over ftp\n")
    f:close()
    f = assert(io.open(root .. "/data.bin", "wb"))
    for i = 0, 99999 do f:write(string.char((i * 7 + i // 256) % 256)) end
    f:close()
    port, pid = start(DEBIAN_PYTHON, "ftp_server.py", root)
  end)
  teardown(function()
    if pid then os.execute("kill " .. pid) end
    os.execute("rm -rf " .. q(root))
  end)

  it("RETR, NLST and LIST against pyftpdlib as under lua5.4", function()
    local out = same_as_reference("ftp_client.lua", port)
    assert.truthy(out:find('NLST names -> 1: "data.bin,hello.txt"', 1, true))
    assert.truthy(out:find("RETR size -> 2: 100000:integer", 1, true))
  end)
end)

describe("Debian's lua-copas", function()
  it("runs the Copas echo server and its clients, Copas's own loop included, as under lua5.4", function()
    -- How the two concurrent clients' lines interleave depends on timing,
    -- under lua5.4 as under moonsock: each client's lines are compared.
    local out, ref = under_both("copas_echo.lua")
    for _, who in ipairs {"a", "b", "clients"} do
      assert.are.same(lines_of(ref, who), lines_of(out, who))
    end
    assert.are.equal(select(2, ref:gsub("\n", "")), select(2, out:gsub("\n", "")))
    assert.truthy(out:find('a got -> 3: "A LINE 3"', 1, true))
    assert.truthy(out:find("clients done -> 1: 2:integer", 1, true))
  end)
end)
