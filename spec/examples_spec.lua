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
local h = require "spec.support.helpers"
local socket = require "socket"
local ex = require "spec.support.examples"
local ROOT, read_file, sh_quote, command = ex.ROOT, ex.read_file, ex.sh_quote, ex.command

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
local EPHEMERAL_LOW, EPHEMERAL_HIGH = ex.EPHEMERAL_LOW, ex.EPHEMERAL_HIGH

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

local function run(cmd, input) return ex.run_all({{cmd = cmd, input = input}})[1] end

-- Background servers still running; after_each ends them.
local running = {}

local function start_server(cmd)
  local srv = ex.start(cmd)
  running[srv] = true
  return srv
end

local function finish_server(srv)
  running[srv] = nil
  return ex.finish(srv)
end

-- One session: a server example started in server_lang on a free port, then
-- its clients in client_lang. spec = {server = NAME, server_args = fn(port),
-- clients = {{name =, args = fn(port), input =}...}, parallel = bool}; a
-- client {shell = fn(port)} is a plain shell command, the same in every pairing.
local function session(spec, server_lang, client_lang)
  local port = ex.free_port()
  local labels = {[port] = "<port>"}
  local srv = start_server(command(server_lang, spec.server, spec.server_args(port)))
  local up = ex.wait_until(function() return ex.tcp_listening(port) end, 5)
  if not up then
    local res = finish_server(srv)
    error("server never listened on " .. port .. ": " .. tostring(res.err))
  end
  local cmds = {}
  for i, c in ipairs(spec.clients) do
    cmds[i] = {cmd = c.shell and c.shell(port) or command(client_lang, c.name, c.args(port)),
               input = c.input}
  end
  local results = ex.run_all(cmds, spec.parallel)
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
    for srv in pairs(running) do
      running[srv] = nil
      ex.stop(srv)
    end
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
    local res = run(sh_quote(h.moonsock) .. " examples/demo.lua")
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
    local py = compare("tcp_echo_client", {"127.0.0.1", ex.free_port(), "hi"})
    assert.are.equal(1, py.code)
  end)
end)
