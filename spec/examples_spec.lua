-- Differential tests of the tutorial examples: every examples/NAME.lua is run
-- under bin/moonsock and its reference examples/python/NAME.py under python3,
-- with the same arguments and standard input, and the two must print the same
-- standard output and end with the same exit status. Servers run in the
-- background on a free loopback port; their clients run against them in all
-- four pairings (moonsock or Python server, moonsock or Python client) and
-- every pairing must print what the Python/Python pairing prints, on both
-- sides. The expected text is always what python3 prints.
--
-- Run: bin/moonsock /usr/bin/busted spec/examples_spec.lua
-- The binary running this spec (bin-asan/moonsock under scripts/test --sanitize).
local MOONSOCK = "'" .. require("spec.support.helpers").moonsock:gsub("'", "'\\''") .. "'"
local socket = require "socket"
local task = require "task"

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$") or "."

-- ---- normalisation: the only differences allowed between two runs ----

-- What python3 calls a family/type number (socket.AddressFamily/SocketKind).
local enum_names = {}
local function python_enum_name(enum, number)
  local key = enum .. number
  if not enum_names[key] then
    local p = assert(io.popen(string.format(
      "python3 -c 'import socket; print(socket.%s(%d).name)'", enum, number)))
    enum_names[key] = assert(p:read("l"), "python3 gave no name")
    p:close()
  end
  return enum_names[key]
end

-- The kernel's ephemeral port range (ports it picks for clients and port 0).
local EPHEMERAL_LOW, EPHEMERAL_HIGH = (function()
  local f = assert(io.open("/proc/sys/net/ipv4/ip_local_port_range"))
  local low, high = f:read("n", "n")
  f:close()
  return low, high
end)()

-- normalise(text, ports): ports maps a port number chosen by the spec for
-- this run (a server's port) to a label.
local function normalise(text, ports)
  ports = ports or {}
  local ephemeral, count = {}, 0
  local function port(p)
    local n = tonumber(p)
    -- A port the spec chose for this run differs between the moonsock and
    -- the Python run (each server gets a fresh free port): its label.
    if ports[n] then return ports[n] end
    -- A port the kernel picked (a client's source port, a port-0 bind)
    -- differs on every run. Numbered by first appearance, so the same port
    -- printed twice (raddr and addr) must still be the same port.
    if n >= EPHEMERAL_LOW and n <= EPHEMERAL_HIGH then
      if not ephemeral[n] then
        count = count + 1
        ephemeral[n] = "<ephemeral" .. count .. ">"
      end
      return ephemeral[n]
    end
    return p
  end
  -- Python 3.11's socket repr "<socket.socket fd=3, family=2, type=1, ...>"
  -- is moonsock's documented "<socket fd=3, family=AF_INET, type=SOCK_STREAM,
  -- ...>": Python's numbers become the names python3 itself gives them.
  text = text:gsub("<socket%.socket ([^>]-)family=(%d+), type=(%d+),", function(pre, family, type)
    return string.format("<socket %sfamily=%s, type=%s,", pre,
      python_enum_name("AddressFamily", tonumber(family)), python_enum_name("SocketKind", tonumber(type)))
  end)
  -- File descriptor numbers depend on what else the process has open.
  text = text:gsub("fd=%d+", "fd=<fd>")
  -- Ports inside address tuples ('127.0.0.1', 35066) and in "ip:port".
  text = text:gsub("(%('[^']*', )(%d+)", function(pre, p) return pre .. port(p) end)
  text = text:gsub("(%d+%.%d+%.%d+%.%d+):(%d+)", function(ip, p) return ip .. ":" .. port(p) end)
  return text
end

-- ---- running programs ----

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function tmpdir()
  local p = assert(io.popen("mktemp -d"))
  local dir = p:read("l")
  p:close()
  return assert(dir, "mktemp -d failed")
end

-- The command line of an example: lang is "lua" (moonsock) or "python".
local function command(lang, name, args)
  local quoted = {}
  for i, a in ipairs(args or {}) do quoted[i] = sh_quote(tostring(a)) end
  local prog = lang == "lua" and (MOONSOCK .. " examples/" .. name .. ".lua")
    or ("python3 examples/python/" .. name .. ".py")
  return prog .. (#quoted > 0 and " " .. table.concat(quoted, " ") or "")
end

-- Runs commands at the same time (or one after the other when sequential),
-- each with its own standard input; every one is bounded by timeout(1).
-- Returns {out = stdout, code = exit status} per command.
local function run_all(cmds, sequential)
  local dir = tmpdir()
  local parts = {}
  for i, c in ipairs(cmds) do
    write_file(dir .. "/in" .. i, c.input or "")
    parts[i] = string.format("( timeout 20 %s < %s/in%d > %s/out%d 2> %s/err%d; echo $? > %s/rc%d )",
      c.cmd, dir, i, dir, i, dir, i, dir, i)
  end
  local script = sequential and table.concat(parts, "; ")
    or (table.concat(parts, " & ") .. " & wait")
  os.execute("cd " .. sh_quote(ROOT) .. " && { " .. script .. "; }")
  local results = {}
  for i in ipairs(cmds) do
    results[i] = {
      out = read_file(dir .. "/out" .. i),
      code = tonumber(read_file(dir .. "/rc" .. i)),
      err = read_file(dir .. "/err" .. i),
    }
  end
  os.execute("rm -rf " .. sh_quote(dir))
  return results
end

local function run(cmd, input) return run_all({{cmd = cmd, input = input}}, true)[1] end

-- Polls pred every 50 ms for at most `seconds`.
local function wait_until(pred, seconds)
  local deadline = task.now() + seconds
  while not pred() do
    if task.now() > deadline then return false end
    task.sleep(0.05)
  end
  return true
end

-- Is something listening on TCP port `port`? The kernel's own tables say.
local function listening(port)
  for _, path in ipairs {"/proc/net/tcp", "/proc/net/tcp6"} do
    local text = read_file(path) or ""
    for lport, state in text:gmatch("\n%s*%d+: %x+:(%x+) %x+:%x+ (%x%x)") do
      if tonumber(lport, 16) == port and state == "0A" then return true end
    end
  end
  return false
end

local function free_port()
  local s = socket.socket()
  s:bind({"127.0.0.1", 0})
  local port = s:getsockname()[2]
  s:close()
  return port
end

-- Background servers still running; after_each ends them.
local running = {}

-- Starts cmd in the background; its pid, output and exit status land in a
-- temporary directory.
local function start_server(cmd)
  local srv = {dir = tmpdir()}
  local d = sh_quote(srv.dir)
  os.execute(string.format(
    "cd %s && ( timeout 30 %s < /dev/null > %s/out 2> %s/err & echo $! > %s/pid; wait $!; echo $? > %s/rc )"
    .. " > /dev/null 2>&1 &", sh_quote(ROOT), cmd, d, d, d, d))
  running[srv] = true
  return srv
end

local function stop_server(srv)
  local pid = tonumber(read_file(srv.dir .. "/pid"))
  if pid and not read_file(srv.dir .. "/rc") then os.execute("kill " .. pid .. " 2> /dev/null") end
  running[srv] = nil
  os.execute("rm -rf " .. sh_quote(srv.dir))
end

-- Waits (at most 10 s) for the server to end; -> {out =, code =}.
local function finish_server(srv)
  -- "echo $? > rc" creates the file before it writes the number: wait for it.
  local ended = wait_until(function() return tonumber(read_file(srv.dir .. "/rc") or "") ~= nil end, 10)
  local result = {
    out = read_file(srv.dir .. "/out"),
    code = tonumber(read_file(srv.dir .. "/rc")),
    err = read_file(srv.dir .. "/err"),
  }
  stop_server(srv)
  assert(ended, "server did not end: " .. tostring(result.err))
  return result
end

-- One session: a server example started in server_lang on a free port, then
-- its clients in client_lang. spec = {server = NAME, server_args = fn(port),
-- clients = {{name =, args = fn(port), input =}...}, parallel = bool}; a
-- client {shell = fn(port)} is a plain shell command, the same in every pairing.
local function session(spec, server_lang, client_lang)
  local port = free_port()
  local labels = {[port] = "<port>"}
  local srv = start_server(command(server_lang, spec.server, spec.server_args(port)))
  local up = wait_until(function() return listening(port) end, 5)
  if not up then
    local res = finish_server(srv)
    error("server never listened on " .. port .. ": " .. tostring(res.err))
  end
  local cmds = {}
  for i, c in ipairs(spec.clients) do
    cmds[i] = {cmd = c.shell and c.shell(port) or command(client_lang, c.name, c.args(port)),
               input = c.input}
  end
  local results = run_all(cmds, not spec.parallel)
  local seen = {clients = {}}
  for i, r in ipairs(results) do
    seen.clients[i] = {out = normalise(r.out, labels), code = r.code}
  end
  local s = finish_server(srv)
  seen.server = {out = normalise(s.out, labels), code = s.code}
  return seen, results
end

-- ---- the examples ----

-- Programs that run on their own: name and the argument lists to try.
local standalone = {
  {"gethostbyname_ex", {}, {"localhost", "127.0.0.1", "nosuchname.invalid"}},
  {"getservbyname_urls", {}, {"http://www.python.org", "ftp://x", "Gopher://x", "nourl"}},
  {"getservbyport_smtp", {}, {"80"}},
  {"getprotobyname_constants", {}, {"icmp", "tcp", "udp"}},
  {"gethostbyname", {}, {"localhost", "::1", "nosuchname.invalid"}},
  {"gethostbyname_ex_errors", {}, {"127.0.0.1", "nosuchname.invalid"}},
  {"getfqdn", {}, {"localhost", "127.0.0.1", "nosuchname.invalid"}},
  {"gethostbyaddr", {}, {"127.0.0.1", "localhost", "::1", "nosuchname.invalid"}},
  {"getservbyname_schemes", {}, {"http://a", "imaps://b", "pop3s://c"}},
  {"getservbyport_urls", {}, {"22", "23"}},
  {"getprotobyname_dict", {}, {"tcp"}},
  {"getprotobyname_table", {}, {"tcp", "icmp"}},
  {"getaddrinfo_list", {}, {"localhost", "::1", "nosuchname.invalid"}},
  {"getaddrinfo_constants", {}, {"127.0.0.1", "::1", "nosuchname.invalid"}},
  {"getaddrinfo_canonname", {}, {"localhost", "::1", "nosuchname.invalid"}},
  {"inet_aton_packing", {}, {"10.1.2.3", "255.255.255.255", "0.0.0.0"}},
  {"inet_pton_ipv6", {}, {"::1", "2001:db8::8:800:200c:417a", "::ffff:192.0.2.1"}},
  {"gethostname", {}, {"localhost", "nosuchname.invalid"}},
  {"getservbyname_tcp", {}, {"ssh", "smtp", "nosuchservice"}},
  {"demo", {}},
}

local function host_args(port) return {port, "127.0.0.1"} end
local function client_args(port) return {"127.0.0.1", port} end

-- Servers and the clients that talk to them. status: the exit status the
-- Python pair must show (so a pair that fails the same way cannot pass).
local sessions = {
  {title = "tcp_echo_server + tcp_echo_client (one client, echo)",
   server = "tcp_echo_server", server_args = host_args,
   clients = {{name = "tcp_echo_client",
               args = function(port) return {"127.0.0.1", port, "hello from the spec"} end}}},
  {title = "tcp_echo_server + tcp_echo_client (client resolves localhost)",
   server = "tcp_echo_server", server_args = host_args,
   clients = {{name = "tcp_echo_client", args = function(port) return {"localhost", port, "你好"} end}}},
  {title = "tcp_loop_server + 3 tcp_echo_clients (OK... replies, client count)",
   server = "tcp_loop_server", server_args = function(port) return {port, "127.0.0.1", 3} end,
   clients = {
     {name = "tcp_echo_client", args = function(port) return {"127.0.0.1", port, "one"} end},
     {name = "tcp_echo_client", args = function(port) return {"127.0.0.1", port, "two"} end},
     {name = "tcp_echo_client", args = function(port) return {"127.0.0.1", port, "three"} end},
   }},
  {title = "tcp_loop_server ends when a client sends nothing",
   server = "tcp_loop_server", server_args = function(port) return {port, "127.0.0.1", 5} end,
   clients = {
     {name = "tcp_echo_client", args = function(port) return {"127.0.0.1", port, "first"} end},
     -- Connects and closes without sending: the server's recv gets b''.
     {shell = function(port) return "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" .. port .. "'" end},
   }},
  {title = "thread_per_client_server + 3 concurrent line_clients",
   server = "thread_per_client_server", server_args = function(port) return {port, "127.0.0.1", 3} end,
   parallel = true,
   clients = {
     {name = "line_client", args = client_args, input = "hello\nworld\n"},
     {name = "line_client", args = client_args, input = "a\nbb\nccc\n"},
     {name = "line_client", args = client_args, input = "last line without newline"},
   }},
  {title = "socket_repr_server + input_client (prints sk, conn, addr)",
   server = "socket_repr_server", server_args = host_args,
   clients = {{name = "input_client", args = client_args, input = "hello\n"}}},
  {title = "recv_print_server + input_client",
   server = "recv_print_server", server_args = host_args,
   clients = {{name = "input_client", args = client_args, input = "你好, server\nnot read\n"}}},
}

local function compare(name, args, input)
  local py = run(command("python", name, args), input)
  local lua = run(command("lua", name, args), input)
  assert.is_not_nil(py.code, "python3 did not run")
  assert.are.equal(normalise(py.out), normalise(lua.out), "stdout; moonsock stderr: " .. tostring(lua.err))
  assert.are.equal(py.code, lua.code, "exit status; moonsock stderr: " .. tostring(lua.err))
  return py, lua
end

describe("examples", function()
  after_each(function()
    for srv in pairs(running) do stop_server(srv) end
  end)

  it("each has a Python reference, a header naming its source, and a test here", function()
    local tested = {}
    for _, c in ipairs(standalone) do tested[c[1]] = true end
    for _, s in ipairs(sessions) do
      tested[s.server] = true
      for _, c in ipairs(s.clients) do
        if c.name then tested[c.name] = true end
      end
    end
    local p = assert(io.popen("cd " .. sh_quote(ROOT) .. " && ls examples/*.lua"))
    local count = 0
    for path in p:lines() do
      local name = path:match("^examples/(.*)%.lua$")
      local text = read_file(ROOT .. "/" .. path)
      assert.is_not_nil(read_file(ROOT .. "/examples/python/" .. name .. ".py"), name .. " has no .py")
      if tested[name] then
        count = count + 1
        assert.is_truthy(text:find("^%-%- " .. name:gsub("%p", "%%%0") .. "%.lua"), name .. " header")
        assert.is_truthy(text:find("\n%-%- Source: ../shared/seeds/%d%d%d_%x+%.txt"), name .. " source")
        assert.is_truthy(text:find("\n%-%- Shows: "), name .. " says what it shows")
      else
        -- Examples of the later modules (socketserver, asyncore...) are run by
        -- their own specs: one of them must name the example.
        local g = io.popen("cd " .. sh_quote(ROOT) .. " && grep -l -- " .. sh_quote(name) .. " spec/*_spec.lua")
        local found = g:read("l")
        g:close()
        assert.is_not_nil(found, name .. " has no test in any spec")
      end
    end
    p:close()
    assert.is_true(count >= 25)
  end)

  for _, c in ipairs(standalone) do
    local name = c[1]
    for i = 2, #c do
      local args = c[i]
      local shown = #args > 0 and table.concat(args, " ") or "(defaults)"
      it(name .. " " .. shown .. " prints what python3 prints", function()
        local py = compare(name, args)
        assert.are.equal(0, py.code, "python reference failed: " .. tostring(py.err))
        assert.is_true(#py.out > 0)
      end)
    end
  end

  it("demo exits 0 by itself, and its three clients get their echoes", function()
    local res = run(MOONSOCK .. " examples/demo.lua")
    assert.are.equal(0, res.code, tostring(res.err))
    local n = 0
    for sent, got in res.out:gmatch("sent '([^']*)', got back '([^']*)'") do
      n = n + 1
      assert.are.equal(sent, got)
    end
    assert.are.equal(9, n)
  end)

  for _, s in ipairs(sessions) do
    it(s.title .. ": every server/client pairing prints what Python/Python prints", function()
      local expected, raw = session(s, "python", "python")
      assert.are.equal(0, expected.server.code, "python server: " .. tostring(raw.err))
      for _, c in ipairs(expected.clients) do assert.are.equal(0, c.code) end
      for _, pair in ipairs {{"lua", "lua"}, {"lua", "python"}, {"python", "lua"}} do
        local seen = session(s, pair[1], pair[2])
        assert.are.same(expected, seen, pair[1] .. " server with " .. pair[2] .. " clients")
      end
    end)
  end

  it("tcp_echo_server reports a bind failure as the tutorial does", function()
    -- The port is taken by a listening socket of this process.
    local holder = socket.socket()
    holder:bind({"127.0.0.1", 0})
    holder:listen(1)
    local port = holder:getsockname()[2]
    local py = compare("tcp_echo_server", {port, "127.0.0.1"})
    holder:close()
    assert.are.equal(0, py.code)
    assert.is_truthy(py.out:find("^Bind failed%. Error Code : %d+ Message "))
  end)

  it("tcp_echo_client reports a name that does not resolve", function()
    local py = compare("tcp_echo_client", {"nosuchname.invalid", 8888, "hi"})
    assert.are.equal(0, py.code)
    assert.are.equal("Hostname could not be resolved. Exiting\n", py.out)
  end)

  it("tcp_echo_client fails like Python when nothing listens on the port", function()
    local py = compare("tcp_echo_client", {"127.0.0.1", free_port(), "hi"})
    assert.are.equal(1, py.code)
  end)
end)
