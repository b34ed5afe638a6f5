-- The TLS reference peers of the specs, on loopback and bounded in time:
-- python3's ssl through spec/support/tlspeer.py (its options are listed
-- there), and openssl s_server / s_client. Certificates come from
-- spec/support/pki.lua.
--
--   local srv = tls.python_server({"--cert", pki.server.chain, "--key", pki.server.key})
--   ... connect to srv.port ...
--   local reports = tls.finish(srv)      -- one table per connection served
--   local report, code = tls.python_client("127.0.0.1", port, {"--ca", pki.ca})
--   local srv = tls.s_server({"-cert", ..., "-key", ..., "-rev"})   -- srv.port
--   local out, err, code = tls.s_client("127.0.0.1", port, {"-CAfile", pki.ca}, "input")
local json = require "dkjson" -- Debian lua-dkjson, which lua-busted depends on
local ex = require "spec.support.examples"
local h = require "spec.support.helpers"

local M = {}

M.TLSPEER = ex.ROOT .. "/spec/support/tlspeer.py"

local function quote_all(args)
  local quoted = {}
  for i, a in ipairs(args or {}) do quoted[i] = h.shell_quote(a) end
  return table.concat(quoted, " ")
end

local function decode(line)
  local value, _, err = json.decode(line, 1, json.null)
  if err then error("not JSON: " .. line .. " (" .. err .. ")", 2) end
  return value
end
M.json_null = json.null

-- Waits for a line of the background process's output that `match` turns
-- into a port; the process ending first, or `seconds` passing, is an error.
local function wait_port(proc, match, seconds)
  local port
  local ready = ex.wait_until(function()
    port = match(h.read_file(proc.dir .. "/out") or "", h.read_file(proc.dir .. "/err") or "")
    return port or h.read_file(proc.dir .. "/rc") ~= nil
  end, seconds or 10, 0.02)
  if not (ready and port) then
    local res = ex.finish(proc, 1)
    error("the TLS peer never got ready: " .. tostring(res.out) .. tostring(res.err), 3)
  end
  return port
end

-- python_server(args[, seconds]) -> {port =, proc =}: tlspeer.py's echo
-- server, running at most `seconds` (30).
function M.python_server(args, seconds)
  local proc = ex.start("python3 " .. h.shell_quote(M.TLSPEER) .. " server " .. quote_all(args), seconds or 30)
  local port = wait_port(proc, function(out)
    local first = out:match("^([^\n]*)\n")
    return first and decode(first).port
  end)
  return {port = port, proc = proc}
end

-- finish(server[, seconds]) -> the reports of a tlspeer.py server, one per
-- connection, once it has served its --count; the raw {out =, err =, code =}.
function M.finish(server, seconds)
  local res = ex.finish(server.proc, seconds)
  local reports = {}
  for line in res.out:gmatch("[^\n]+") do
    local r = decode(line)
    if not r.port then reports[#reports + 1] = r end
  end
  return reports, res
end

-- Runs a command in the background, bounded by `seconds`, and waits for it
-- with task.sleep: a moonsock server that a spec runs in a task of its own
-- process keeps serving meanwhile (io.popen would stop every task).
-- `input`, when given, is the command's standard input. -> out, err, code.
local function run(cmd, seconds, input)
  local path
  if input then
    path = h.write_temp(input)
    cmd = "sh -c " .. h.shell_quote("exec " .. cmd .. " < " .. h.shell_quote(path))
  end
  local res = ex.finish(ex.start(cmd, seconds), seconds + 5)
  if path then os.remove(path) end
  return res.out, res.err, res.code
end

-- python_client(host, port, args[, seconds]) -> report, exit status, stderr;
-- bounded by `seconds` (30).
function M.python_client(host, port, args, seconds)
  local out, err, code = run(string.format("python3 %s client %s %d %s",
    h.shell_quote(M.TLSPEER), h.shell_quote(host), port, quote_all(args)), seconds or 30)
  local line = out:match("^([^\n]*)\n")
  return line and decode(line), code, err
end

-- s_server(args[, seconds]) -> {port =, proc =}: openssl s_server on a free
-- loopback port, for at most `seconds` (30); pass -naccept to end it early.
-- Its stdin is /dev/null, and s_server closes a connection at the end of its
-- input: give it -rev (an echo, each line reversed) or -www to keep talking.
function M.s_server(args, seconds)
  local proc = ex.start("openssl s_server -accept 127.0.0.1:0 " .. quote_all(args), seconds or 30)
  local port = wait_port(proc, function(out) return tonumber(out:match("ACCEPT [%d.]+:(%d+)")) end)
  return {port = port, proc = proc}
end

-- stop(server): kills a server that is still running (after_each).
function M.stop(server) ex.stop(server.proc) end

-- s_client(host, port, args[, input[, seconds]]) -> stdout, stderr, exit
-- status of openssl s_client, which reads `input` and ends at its end
-- (-ign_eof keeps it until the server closes; bounded by `seconds`, 10).
function M.s_client(host, port, args, input, seconds)
  return run(string.format("openssl s_client -connect %s %s",
    h.shell_quote((host:find(":") and "[" .. host .. "]" or host) .. ":" .. port), quote_all(args)),
    seconds or 10, input or "")
end

-- verify(cert, args) -> the output and exit status of `openssl verify`.
function M.verify(cert, args)
  local out, err, code = h.run("openssl verify " .. quote_all(args) .. " " .. h.shell_quote(cert))
  return out .. err, code
end

return M
