-- Differential tests of the socketserver examples: every
-- examples/socketserver_*.lua runs under bin/moonsock and its reference
-- examples/python/socketserver_*.py under python3. A server runs in the
-- background (on a free loopback port, or a socket path in a temp dir) and
-- its clients run against it in all four pairings (moonsock or Python
-- server, moonsock or Python clients); every pairing must print, on every
-- side, what the Python/Python pairing prints, and end with the same exit
-- status. Only what differs from run to run is normalised (normalise below).
--
-- Run: bin/moonsock /usr/bin/busted spec/socketserver_examples_spec.lua
-- The binary running this spec (bin-asan/moonsock under scripts/test --sanitize).
local MOONSOCK = "'" .. require("spec.support.helpers").moonsock:gsub("'", "'\\''") .. "'"
local socket = require "socket"
local task = require "task"

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$") or "."

-- ---- normalisation: the only differences allowed between two runs ----

-- normalise(text, labels): labels maps text the spec chose for this run
-- (the server's port, the temp dir of a socket path) to a fixed label.
local function normalise(text, labels)
  -- What the spec chose: a free port, a temp dir.
  for value, label in pairs(labels or {}) do
    local pattern = tostring(value):gsub("%p", "%%%0")
    -- A port only as a whole number, not as digits of a longer one.
    if math.type(value) == "integer" then pattern = "%f[%d]" .. pattern .. "%f[%D]" end
    text = text:gsub(pattern, (label:gsub("%%", "%%%%")))
  end
  -- File descriptor numbers depend on what else the process has open.
  text = text:gsub("fd=%d+", "fd=<fd>")
  -- Process ids: numbered by first appearance, so the same pid printed
  -- twice stays the same and two pids stay two.
  local pids, npids = {}, 0
  text = text:gsub("pid (%d+)", function(pid)
    if not pids[pid] then
      npids = npids + 1
      pids[pid] = "pid <pid" .. npids .. ">"
    end
    return pids[pid]
  end)
  -- Thread names (Python's "Thread-2 (process_request_thread)") and task
  -- handles (moonsock's "<task 0x55d1f66338c8 running>"): numbered by
  -- first appearance, as pids.
  local threads, nthreads = {}, 0
  local function thread(id)
    if not threads[id] then
      nthreads = nthreads + 1
      threads[id] = "<thread" .. nthreads .. ">"
    end
    return threads[id]
  end
  text = text:gsub("Thread%-(%d+) %([%w_]+%)", thread)
  text = text:gsub("<task (0x%x+)[%a ]*>", thread)
  return text
end

-- ---- running programs ----

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function tmpdir()
  local p = assert(io.popen("mktemp -d"))
  local dir = p:read("l")
  p:close()
  return assert(dir, "mktemp -d failed")
end

-- lang "lua" (moonsock) or "python".
local function command(lang, name, args)
  local quoted = {}
  for i, a in ipairs(args or {}) do quoted[i] = sh_quote(a) end
  local prog = lang == "lua" and (MOONSOCK .. " examples/" .. name .. ".lua")
    or ("python3 examples/python/" .. name .. ".py")
  return prog .. (#quoted > 0 and " " .. table.concat(quoted, " ") or "")
end

-- Runs the commands one after the other, or all at once; each bounded by
-- timeout(1). -> {out =, err =, code =} per command.
local function run_all(cmds, parallel)
  local dir = tmpdir()
  local parts = {}
  for i, cmd in ipairs(cmds) do
    parts[i] = string.format("( timeout 20 %s < /dev/null > %s/out%d 2> %s/err%d; echo $? > %s/rc%d )",
      cmd, dir, i, dir, i, dir, i)
  end
  local script = parallel and (table.concat(parts, " & ") .. " & wait") or table.concat(parts, "; ")
  os.execute("cd " .. sh_quote(ROOT) .. " && { " .. script .. "; }")
  local results = {}
  for i in ipairs(cmds) do
    results[i] = {out = read_file(dir .. "/out" .. i), err = read_file(dir .. "/err" .. i),
                  code = tonumber(read_file(dir .. "/rc" .. i))}
  end
  os.execute("rm -rf " .. sh_quote(dir))
  return results
end

local function wait_until(pred, seconds)
  local deadline = task.now() + seconds
  while not pred() do
    if task.now() > deadline then return false end
    task.sleep(0.02)
  end
  return true
end

-- The kernel's tables say whether the server is ready for clients.
local function proc_lines(paths)
  local lines = {}
  for _, path in ipairs(paths) do
    for line in (read_file(path) or ""):gmatch("[^\n]+") do lines[#lines + 1] = line end
  end
  return lines
end

local function tcp_listening(port)
  for _, line in ipairs(proc_lines {"/proc/net/tcp", "/proc/net/tcp6"}) do
    local lport, state = line:match("^%s*%d+: %x+:(%x+) %x+:%x+ (%x%x)")
    if lport and tonumber(lport, 16) == port and state == "0A" then return true end
  end
  return false
end

local function udp_bound(port)
  for _, line in ipairs(proc_lines {"/proc/net/udp", "/proc/net/udp6"}) do
    local lport = line:match("^%s*%d+: %x+:(%x+) ")
    if lport and tonumber(lport, 16) == port then return true end
  end
  return false
end

-- A listening UNIX socket has __SO_ACCEPTCON (0x10000) in its flags.
local function unix_listening(path)
  for _, line in ipairs(proc_lines {"/proc/net/unix"}) do
    local flags, p = line:match("^%x+: %x+ %x+ (%x+) %x+ %x+ %d+ (.*)$")
    if p == path and tonumber(flags, 16) & 0x10000 ~= 0 then return true end
  end
  return false
end

local function free_port(type_)
  local s = socket.socket(socket.AF_INET, type_ or socket.SOCK_STREAM)
  s:bind({"127.0.0.1", 0})
  local port = s:getsockname()[2]
  s:close()
  return port
end

-- Starts a server in the background; -> its temp dir (out, err, rc, pid).
local function start_server(cmd)
  local dir = tmpdir()
  local d = sh_quote(dir)
  os.execute(string.format(
    "cd %s && ( timeout 30 %s < /dev/null > %s/out 2> %s/err & echo $! > %s/pid; wait $!; echo $? > %s/rc )"
    .. " > /dev/null 2>&1 &", sh_quote(ROOT), cmd, d, d, d, d))
  return dir
end

-- Waits (at most 10 s) for the server to end, kills it if it does not.
local function finish_server(dir)
  -- "echo $? > rc" creates the file before it writes the number: wait for it.
  local ended = wait_until(function() return tonumber(read_file(dir .. "/rc") or "") ~= nil end, 10)
  local res = {out = read_file(dir .. "/out"), err = read_file(dir .. "/err"),
               code = tonumber(read_file(dir .. "/rc"))}
  if not ended then
    local pid = tonumber(read_file(dir .. "/pid"))
    if pid then os.execute("kill " .. pid .. " 2> /dev/null") end
  end
  os.execute("rm -rf " .. sh_quote(dir))
  assert(ended, "server did not end: " .. tostring(res.err))
  return res
end

-- One session: spec = {server =, server_args = fn(where), ready = fn(where),
-- clients = {{name =, args = fn(where)}...}, parallel =, where = fn()};
-- `where` is the port (or socket path) chosen for this session.
local function session(spec, server_lang, client_lang)
  local where, labels = spec.where()
  local srv = start_server(command(server_lang, spec.server, spec.server_args(where)))
  if not wait_until(function() return spec.ready(where) end, 5) then
    local res = finish_server(srv)
    error("the server never got ready: " .. tostring(res.err))
  end
  local cmds = {}
  for i, c in ipairs(spec.clients) do cmds[i] = command(client_lang, c.name, c.args(where)) end
  local results = run_all(cmds, spec.parallel)
  local seen, errs = {clients = {}}, {}
  for i, r in ipairs(results) do
    seen.clients[i] = {out = normalise(r.out, labels), code = r.code}
    errs[#errs + 1] = r.err
  end
  local s = finish_server(srv)
  seen.server = {out = normalise(s.out, labels), code = s.code}
  errs[#errs + 1] = s.err
  return seen, table.concat(errs)
end

-- ---- the examples ----

local function tcp_port()
  local port = free_port()
  return port, {[port] = "<port>"}
end

local function udp_port()
  local port = free_port(socket.SOCK_DGRAM)
  return port, {[port] = "<port>"}
end

local dirs = {}
local function socket_path()
  local dir = tmpdir()
  dirs[#dirs + 1] = dir
  return dir .. "/server.sock", {[dir] = "<dir>"}
end

local function client(name, ...)
  local words = {...}
  return {name = name, args = function(where) return {where, table.unpack(words)} end}
end

local sessions = {
  {title = "socketserver_tcp_server + 2 socketserver_tcp_clients (MyTCPHandler)",
   server = "socketserver_tcp_server", where = tcp_port, ready = tcp_listening,
   server_args = function(port) return {port, "localhost", 2} end,
   clients = {client("socketserver_tcp_client", "hello", "world"),
              client("socketserver_tcp_client", "again")}},
  {title = "socketserver_udp_server + 2 socketserver_udp_clients (MyUDPHandler)",
   server = "socketserver_udp_server", where = udp_port, ready = udp_bound,
   server_args = function(port) return {port, "localhost", 2} end,
   clients = {client("socketserver_udp_client", "hello", "udp"),
              client("socketserver_udp_client", "second datagram")}},
  {title = "socketserver_unix_server + 2 socketserver_unix_clients",
   server = "socketserver_unix_server", where = socket_path, ready = unix_listening,
   server_args = function(path) return {path, 2} end,
   clients = {client("socketserver_unix_client", "a", "bb", "ccc"),
              client("socketserver_unix_client", "one")}},
  {title = "socketserver_forking_server + 3 concurrent socketserver_tcp_clients",
   server = "socketserver_forking_server", where = tcp_port, ready = tcp_listening,
   server_args = function(port) return {port, "localhost", 3} end,
   parallel = true,
   clients = {client("socketserver_tcp_client", "first"),
              client("socketserver_tcp_client", "second"),
              client("socketserver_tcp_client", "third")}},
}

describe("socketserver examples", function()
  teardown(function()
    for _, dir in ipairs(dirs) do os.execute("rm -rf " .. sh_quote(dir)) end
  end)

  it("normalise keeps what matters: distinct pids and threads stay distinct", function()
    assert.are.equal("pid <pid1> pid <pid2> pid <pid1>", normalise("pid 10 pid 20 pid 10"))
    assert.are.equal("<thread1>: <thread2>: <thread1>",
      normalise("Thread-1 (serve_forever): Thread-2 (process_request_thread): Thread-1 (serve_forever)"))
    assert.are.equal("<thread1> <thread2> <thread1>",
      normalise("<task 0x55e7 ready daemon> <task 0x55e8 running> <task 0x55e7 parked daemon>"))
    assert.are.equal("('127.0.0.1', <port>) fd=<fd> 142420",
      normalise("('127.0.0.1', 4242) fd=7 142420", {[4242] = "<port>"}))
  end)

  it("each socketserver example has a Python reference, a header and a test here", function()
    local tested = {socketserver_threaded = true}
    for _, s in ipairs(sessions) do
      tested[s.server] = true
      for _, c in ipairs(s.clients) do tested[c.name] = true end
    end
    local p = assert(io.popen("cd " .. sh_quote(ROOT) .. " && ls examples/socketserver_*.lua"))
    local n = 0
    for path in p:lines() do
      local name = path:match("^examples/(.*)%.lua$")
      n = n + 1
      assert.is_true(tested[name] == true, name .. " has no test")
      assert.is_not_nil(read_file(ROOT .. "/examples/python/" .. name .. ".py"), name .. " has no .py")
      local text = read_file(ROOT .. "/" .. path)
      assert.is_truthy(text:find("^%-%- " .. name:gsub("%p", "%%%0") .. "%.lua\n"), name .. " header")
      assert.is_truthy(text:find("\n%-%- Source: "), name .. " source")
      assert.is_truthy(text:find("\n%-%- Shows: "), name .. " says what it shows")
    end
    p:close()
    assert.are.equal(8, n)
  end)

  it("socketserver_threaded prints what python3 prints (a task per request)", function()
    local res = run_all({command("python", "socketserver_threaded"), command("lua", "socketserver_threaded")})
    local py, lua = res[1], res[2]
    assert.are.equal(0, py.code, "python: " .. tostring(py.err))
    local lines = select(2, py.out:gsub("\n", ""))
    assert.are.equal(4, lines)
    assert.are.equal(normalise(py.out), normalise(lua.out), "moonsock stderr: " .. tostring(lua.err))
    assert.are.equal(py.code, lua.code)
    -- Four different threads: the server's and one per request.
    assert.is_truthy(normalise(lua.out):find("<thread4>", 1, true))
  end)

  for _, s in ipairs(sessions) do
    it(s.title .. ": every server/client pairing prints what Python/Python prints", function()
      local expected, errs = session(s, "python", "python")
      assert.are.equal(0, expected.server.code, "python server: " .. errs)
      for _, c in ipairs(expected.clients) do
        assert.are.equal(0, c.code, "python client: " .. errs)
        assert.is_true(#c.out > 0)
      end
      for _, pair in ipairs {{"lua", "lua"}, {"lua", "python"}, {"python", "lua"}} do
        local seen, e = session(s, pair[1], pair[2])
        assert.are.same(expected, seen, pair[1] .. " server with " .. pair[2] .. " clients: " .. e)
      end
    end)
  end
end)
