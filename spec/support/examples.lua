-- Shared by the differential specs of the examples (examples_spec,
-- socketserver_examples_spec, async_examples_spec, select_examples_spec):
-- running an example under moonsock or python3, servers in the background,
-- and asking the kernel whether a server is ready. Each spec keeps its own
-- normalisation and sessions, which differ with what its examples print.
local h = require "spec.support.helpers"
local socket = require "socket"
local task = require "task"

local M = {}

-- The repository's top: the examples' paths are relative to it.
M.ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/support/[^/]*$") or "."

-- The kernel's ephemeral port range (the ports it picks for clients and
-- for port 0), which a spec's normalisation numbers rather than compares.
M.EPHEMERAL_LOW, M.EPHEMERAL_HIGH = (function()
  local f = assert(io.open("/proc/sys/net/ipv4/ip_local_port_range"))
  local low, high = f:read("n", "n")
  f:close()
  return low, high
end)()

M.read_file = h.read_file
M.tmpdir = h.tempdir
local function sh_quote(s) return h.shell_quote(tostring(s)) end
M.sh_quote = sh_quote

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- The command line of an example: lang is "lua" (the moonsock running the
-- specs: bin-asan/moonsock under scripts/test --sanitize) or "python".
function M.command(lang, name, args)
  local quoted = {}
  for i, a in ipairs(args or {}) do quoted[i] = sh_quote(a) end
  local prog = lang == "lua" and (sh_quote(h.moonsock) .. " examples/" .. name .. ".lua")
    or ("python3 examples/python/" .. name .. ".py")
  return prog .. (#quoted > 0 and " " .. table.concat(quoted, " ") or "")
end

-- Polls pred every `step` seconds (0.05) for at most `seconds`.
function M.wait_until(pred, seconds, step)
  local deadline = task.now() + seconds
  while not pred() do
    if task.now() > deadline then return false end
    task.sleep(step or 0.05)
  end
  return true
end

-- ---- whether a server is ready, from the kernel's tables (a test
-- connection would count as one of the server's clients) ----

local function proc_lines(paths)
  local lines = {}
  for _, path in ipairs(paths) do
    for line in (h.read_file(path) or ""):gmatch("[^\n]+") do lines[#lines + 1] = line end
  end
  return lines
end

function M.tcp_listening(port)
  for _, line in ipairs(proc_lines {"/proc/net/tcp", "/proc/net/tcp6"}) do
    local lport, state = line:match("^%s*%d+: %x+:(%x+) %x+:%x+ (%x%x)")
    if lport and tonumber(lport, 16) == port and state == "0A" then return true end
  end
  return false
end

function M.udp_bound(port)
  for _, line in ipairs(proc_lines {"/proc/net/udp", "/proc/net/udp6"}) do
    local lport = line:match("^%s*%d+: %x+:(%x+) ")
    if lport and tonumber(lport, 16) == port then return true end
  end
  return false
end

-- A listening UNIX socket has __SO_ACCEPTCON (0x10000) in its flags.
function M.unix_listening(path)
  for _, line in ipairs(proc_lines {"/proc/net/unix"}) do
    local flags, p = line:match("^%x+: %x+ %x+ (%x+) %x+ %x+ %d+ (.*)$")
    if p == path and tonumber(flags, 16) & 0x10000 ~= 0 then return true end
  end
  return false
end

function M.free_port(type_)
  local s = socket.socket(socket.AF_INET, type_ or socket.SOCK_STREAM)
  s:bind({"127.0.0.1", 0})
  local port = s:getsockname()[2]
  s:close()
  return port
end

-- ---- running ----

-- Runs the commands one after the other, or all at once when parallel;
-- each is a command line or {cmd =, input =} and is bounded by timeout(1).
-- -> {out =, err =, code =} per command.
function M.run_all(cmds, parallel)
  local dir = M.tmpdir()
  local parts = {}
  for i, c in ipairs(cmds) do
    if type(c) == "string" then c = {cmd = c} end
    local input = "/dev/null"
    if c.input then
      input = dir .. "/in" .. i
      write_file(input, c.input)
    end
    parts[i] = string.format("( timeout 20 %s < %s > %s/out%d 2> %s/err%d; echo $? > %s/rc%d )",
      c.cmd, input, dir, i, dir, i, dir, i)
  end
  local script = parallel and (table.concat(parts, " & ") .. " & wait") or table.concat(parts, "; ")
  os.execute("cd " .. sh_quote(M.ROOT) .. " && { " .. script .. "; }")
  local results = {}
  for i in ipairs(cmds) do
    results[i] = {out = h.read_file(dir .. "/out" .. i), err = h.read_file(dir .. "/err" .. i),
                  code = tonumber(h.read_file(dir .. "/rc" .. i))}
  end
  os.execute("rm -rf " .. sh_quote(dir))
  return results
end

-- Starts cmd in the background, bounded by timeout(1) (`seconds`, 30);
-- `setup` is shell run before it (a ulimit). Its pid, output, error and
-- exit status land in proc.dir.
function M.start(cmd, seconds, setup)
  local proc = {dir = M.tmpdir()}
  local d = sh_quote(proc.dir)
  os.execute(string.format(
    "cd %s && ( %s timeout %d %s < /dev/null > %s/out 2> %s/err & echo $! > %s/pid; wait $!; "
    .. "echo $? > %s/rc ) > /dev/null 2>&1 &", sh_quote(M.ROOT), setup or "", seconds or 30, cmd,
    d, d, d, d))
  return proc
end

-- Kills the process if it has not ended and removes its directory; safe to
-- call again (after_each, after finish).
function M.stop(proc)
  local pid = tonumber(h.read_file(proc.dir .. "/pid") or "")
  if pid and not h.read_file(proc.dir .. "/rc") then os.execute("kill " .. pid .. " 2> /dev/null") end
  os.execute("rm -rf " .. sh_quote(proc.dir))
end

-- Waits (at most `seconds`, 10) for the process to end; -> {out =, err =,
-- code =}. A process that does not end is killed, and that is an error.
function M.finish(proc, seconds)
  -- "echo $? > rc" creates the file before it writes the number: wait for it.
  local ended = M.wait_until(function()
    return tonumber(h.read_file(proc.dir .. "/rc") or "") ~= nil
  end, seconds or 10)
  local res = {out = h.read_file(proc.dir .. "/out"), err = h.read_file(proc.dir .. "/err"),
               code = tonumber(h.read_file(proc.dir .. "/rc") or "")}
  M.stop(proc)
  assert(ended, "did not end: " .. tostring(res.err))
  return res
end

-- One client/server session of a differential example spec. spec = {server
-- =, server_args = fn(where), where = fn() -> where, labels, ready =
-- fn(where) -> bool, clients = {{name =, args = fn(where)}...}, parallel =};
-- where is the port or socket path of this session, and normalise(text,
-- labels) hides what differs between runs. The server runs in the
-- background, its clients against it; -> {server = {out =, code =},
-- clients = {...}}, and the error output of all of them.
function M.session(spec, server_lang, client_lang, normalise)
  local where, labels = spec.where()
  local srv = M.start(M.command(server_lang, spec.server, spec.server_args(where)))
  if not M.wait_until(function() return spec.ready(where) end, 10, 0.02) then
    local res = M.finish(srv)
    error("the server never got ready: " .. tostring(res.err))
  end
  local cmds = {}
  for i, c in ipairs(spec.clients) do cmds[i] = M.command(client_lang, c.name, c.args(where)) end
  local results = M.run_all(cmds, spec.parallel)
  local seen, errs = {clients = {}}, {}
  for i, r in ipairs(results) do
    seen.clients[i] = {out = normalise(r.out, labels), code = r.code}
    errs[#errs + 1] = r.err
  end
  local s = M.finish(srv)
  seen.server = {out = normalise(s.out, labels), code = s.code}
  errs[#errs + 1] = s.err
  return seen, table.concat(errs)
end

-- A client of a session: the example `name`, run with the session's port or
-- path and then words.
function M.client(name, ...)
  local words = {...}
  return {name = name, args = function(where) return {where, table.unpack(words)} end}
end

return M
