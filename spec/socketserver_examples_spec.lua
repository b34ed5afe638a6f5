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
local socket = require "socket"
local ex = require "spec.support.examples"
local command, run_all = ex.command, ex.run_all
local ROOT, read_file, sh_quote, tmpdir = ex.ROOT, ex.read_file, ex.sh_quote, ex.tmpdir
local free_port, tcp_listening, udp_bound, unix_listening =
  ex.free_port, ex.tcp_listening, ex.udp_bound, ex.unix_listening

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

local client = ex.client

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
      local expected, errs = ex.session(s, "python", "python", normalise)
      assert.are.equal(0, expected.server.code, "python server: " .. errs)
      for _, c in ipairs(expected.clients) do
        assert.are.equal(0, c.code, "python client: " .. errs)
        assert.is_true(#c.out > 0)
      end
      for _, pair in ipairs {{"lua", "lua"}, {"lua", "python"}, {"python", "lua"}} do
        local seen, e = ex.session(s, pair[1], pair[2], normalise)
        assert.are.same(expected, seen, pair[1] .. " server with " .. pair[2] .. " clients: " .. e)
      end
    end)
  end
end)
