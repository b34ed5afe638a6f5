-- Fault: fd inheritance. Every fd moonsock makes is close-on-exec, so a
-- program it runs (io.popen, os.execute) gets none of its sockets, and a
-- forked socketserver child holds what Python's holds.
--
-- The children run under a wrapper that closes every fd above 2 and execs
-- (CLEAN_EXEC below): what the machinery that started busted left open
-- must not count against moonsock.
--
-- Checks:
-- - The kernel's view (/proc/PID/fdinfo/N, "flags:" in octal, O_CLOEXEC is
--   02000000) of a child that holds every kind of fd moonsock makes: sockets
--   of socket.socket (TCP, UDP, TCP over IPv6, UNIX), socketpair, accept,
--   dup, fromfd, create_connection, create_server, makefile, an attached
--   repl.serve session (both ends), select.epoll(), selectors'
--   DefaultSelector, the libuv loop's own fds (epoll, eventfd, its pipes),
--   and after resolver calls. Every fd above 2 has O_CLOEXEC; the kinds
--   expected are all there.
-- - The `moonsock --attach` client: its fds, the same way.
-- - The resolver's own fds exist only while a lookup runs (glibc opens
--   /etc/hosts, nsswitch.conf, a socket to nscd): strace(1) records every
--   call that makes an fd, in every thread, and each one carries
--   O_CLOEXEC / SOCK_CLOEXEC / EPOLL_CLOEXEC / EFD_CLOEXEC. Pending with a
--   message where strace is not installed.
-- - By behaviour: the same child runs `ls -l /proc/self/fd` through
--   io.popen and through os.execute: ls sees 0, 1, 2 and the directory it
--   reads, nothing else.
-- - ForkingTCPServer: the handler's child process holds as many sockets as
--   python3's socketserver.ForkingTCPServer child in the same program (the
--   listening socket, the request and the client's end: fork copies them
--   all), and a program the handler runs with os.execute gets only 0, 1, 2,
--   as Python's os.system does.
-- Measured: about 1 s (release build), 2 s (sanitizer build).
-- Bounded: every child runs under timeout(1); the fd-holding child waits at
-- most 30 s for the spec to look.
local h = require "spec.support.helpers"
local task = require "task"

local q = h.shell_quote
local O_CLOEXEC = tonumber("2000000", 8)

-- A command prefix: closes every fd above 2, then execs the rest.
local CLEAN_EXEC = "python3 -c " .. q("import os, sys; os.closerange(3, os.sysconf('SC_OPEN_MAX')); " ..
  "os.execvp(sys.argv[1], sys.argv[1:])")

local slurp = h.read_file

-- fds(pid) -> {fd = {flags = n, target = "socket:[...]"}} from the kernel.
local function fds(pid)
  local out = h.run("cd /proc/" .. pid .. "/fd && for f in *; do echo \"$f $(readlink $f)\"; done")
  local list = {}
  for fd, target in out:gmatch("(%d+) ([^\n]*)") do
    local info = slurp("/proc/" .. pid .. "/fdinfo/" .. fd)
    if info then
      list[tonumber(fd)] = {flags = tonumber(info:match("flags:%s*(%d+)"), 8), target = target}
    end
  end
  return list
end

local function kind(target)
  return target:match("^anon_inode:%[?([^%]]+)") or target:match("^(%a+):%[") or "file"
end

-- The fd numbers an ls child listed (`ls -l /proc/self/fd` output).
local function listed(text)
  local nums = {}
  for fd in text:gmatch("\n[^\n]-%s(%d+) %-> ") do nums[#nums + 1] = tonumber(fd) end
  table.sort(nums)
  return table.concat(nums, " ")
end

local HOLDER = [[
-- Holds one fd of each kind moonsock makes, runs ls through io.popen and
-- os.execute, prints "ready PID", waits until DIR/done exists.
local socket = require "socket"
local selectmod = require "select"
local selectors = require "selectors"
local repl = require "repl"
local task = require "task"
local posix = require "moonsock.posix"
local dir = ...
local keep = {}
local function hold(name, v) keep[#keep + 1] = {name, v} return v end

hold("tcp", socket.socket())
hold("udp", socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
local ok6, s6 = pcall(socket.socket, socket.AF_INET6, socket.SOCK_STREAM)
if ok6 then hold("tcp6", s6) end
local unix = hold("unix", socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
unix:bind(dir .. "/bound.sock")
hold("pair", {socket.socketpair()})
local srv = hold("create_server", socket.create_server({"127.0.0.1", 0}))
local cli = hold("create_connection", socket.create_connection(srv:getsockname(), 5))
local acc = hold("accept", (srv:accept()))
hold("dup", cli:dup())
hold("fromfd", socket.fromfd(acc:fileno(), socket.AF_INET, socket.SOCK_STREAM))
hold("makefile", acc:makefile("rwb"))
hold("epoll", selectmod.epoll())
local sel = hold("selector", selectors.DefaultSelector())
sel:register(cli, selectors.EVENT_READ)
assert(#socket.getaddrinfo("localhost", 80) > 0)
assert(socket.gethostbyaddr("127.0.0.1"))
hold("repl", repl.serve(dir .. "/repl.sock"))
local attached = hold("attached", socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
attached:settimeout(5)
attached:connect(dir .. "/repl.sock")
assert(#attached:recv(100) > 0) -- the banner: the server has its session's socket

local p = assert(io.popen("ls -l /proc/self/fd"))
local popen_ls = p:read("a")
p:close()
assert(os.execute("ls -l /proc/self/fd > " .. dir .. "/execute.txt"))
local f = assert(io.open(dir .. "/popen.txt", "w"))
f:write(popen_ls)
f:close()

print("ready " .. posix.getpid() .. " " .. tostring(ok6))
io.stdout:flush()
for _ = 1, 3000 do
  f = io.open(dir .. "/done")
  if f then f:close() break end
  task.sleep(0.01)
end
]]

-- The resolver's calls, traced: lookups of names /etc/hosts has.
local RESOLVE = [[
local socket = require "socket"
assert(#socket.getaddrinfo("localhost", 80) > 0)
assert(#socket.getaddrinfo("localhost", "http", socket.AF_INET, socket.SOCK_STREAM) > 0)
assert(socket.gethostbyname("localhost"))
assert(socket.gethostbyaddr("127.0.0.1"))
assert(socket.getnameinfo({"127.0.0.1", 80}, 0))
]]

-- Python's ForkingTCPServer and moonsock's, the same program: a handler
-- that reports the sockets of its process and the fds a program it runs
-- gets; a client in the parent that reads the report.
local FORKING_PY = [[
import os, socket, socketserver, sys, threading
out = sys.argv[1]

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sockets = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                # fds 0-2 are the test's (a socket when a popen ran it)
                if int(fd) > 2 and os.readlink("/proc/self/fd/" + fd).startswith("socket:"): sockets += 1
            except OSError:
                pass
        os.system("ls -l /proc/self/fd > " + out)
        self.request.sendall(b"sockets %d\n" % sockets)

server = socketserver.ForkingTCPServer(("127.0.0.1", 0), Handler)
t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
t.start()
c = socket.create_connection(server.server_address, 5)
c.settimeout(10)
print(c.makefile().readline(), end="")
c.close()
server.shutdown()
server.server_close()
]]

local FORKING_LUA = [[
local socket = require "socket"
local socketserver = require "socketserver"
local task = require "task"
local posix = require "moonsock.posix"
local out = ...

local Handler = socketserver.BaseRequestHandler:extend{
  handle = function(self)
    -- listed through a file, not popen, whose pipe is a socket pair here
    -- (as libuv makes its pipes) where Python's is a pipe
    local listing = out .. ".child"
    assert(os.execute("ls -l /proc/" .. posix.getpid() .. "/fd > " .. listing))
    local sockets = 0
    for line in io.lines(listing) do
      -- fds 0-2 are the test's (a socket when a popen ran it)
      local fd = tonumber(line:match(" (%d+) %-> socket:"))
      if fd and fd > 2 then sockets = sockets + 1 end
    end
    os.remove(listing)
    assert(os.execute("ls -l /proc/self/fd > " .. out))
    self.request:sendall(string.format("sockets %d\n", sockets))
  end,
}

local server = socketserver.ForkingTCPServer({"127.0.0.1", 0}, Handler)
local t = task.spawn(function() server:serve_forever(0.05) end)
local c = socket.create_connection(server.server_address, 5)
c:settimeout(10)
io.write(c:makefile():readline())
c:close()
server:shutdown()
server:server_close()
t:join(10)
]]

describe("fd inheritance", function()
  local dir
  before_each(function() dir = h.tempdir() end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  -- Starts HOLDER under CLEAN_EXEC; returns its pid once it is ready.
  local function start_holder()
    local script = h.write_temp(HOLDER, ".lua")
    os.execute(string.format("%s timeout -k 2 60 %s %s %s </dev/null >%s 2>&1 &", CLEAN_EXEC,
      q(h.moonsock), q(script), q(dir), q(dir .. "/holder.out")))
    for _ = 1, 500 do
      local out = slurp(dir .. "/holder.out") or ""
      local pid, ipv6 = out:match("ready (%d+) (%a+)")
      if pid then
        os.remove(script)
        return pid, ipv6 == "true"
      end
      task.sleep(0.02)
    end
    os.remove(script)
    error("the holder did not start: " .. (slurp(dir .. "/holder.out") or ""))
  end

  local function finish_holder()
    local f = assert(io.open(dir .. "/done", "w"))
    f:close()
  end

  it("makes every fd close-on-exec: sockets of each kind, epoll, the loop's own, repl.serve's", function()
    local pid, ipv6 = start_holder()
    local ok, err = pcall(function()
      local list = fds(pid)
      local kinds, sockets = {}, 0
      for fd, info in pairs(list) do
        if fd > 2 then
          assert.are_not.equal(0, info.flags & O_CLOEXEC,
            string.format("fd %d (%s) flags %o lacks O_CLOEXEC", fd, info.target, info.flags))
          local k = kind(info.target)
          kinds[k] = (kinds[k] or 0) + 1
          if k == "socket" then sockets = sockets + 1 end
        end
      end
      -- tcp, udp, tcp6, unix, the pair's 2, create_server, create_connection,
      -- accept, dup, fromfd, repl.serve's listening socket, its session, the
      -- attached client (makefile shares accept's socket, as in Python).
      assert.equal(ipv6 and 14 or 13, sockets)
      -- The loop's epoll, select.epoll(), the DefaultSelector's.
      assert.is_true((kinds.eventpoll or 0) >= 3, "epoll fds: " .. tostring(kinds.eventpoll))
      assert.is_true((kinds.eventfd or 0) >= 1, "no eventfd")
      assert.is_true((kinds.pipe or 0) >= 2, "no loop pipes")
    end)
    finish_holder()
    assert(ok, err)
  end)

  it("lets programs run by io.popen and os.execute see only fds 0, 1 and 2", function()
    start_holder()
    finish_holder()
    local popen_ls, execute_ls = slurp(dir .. "/popen.txt"), slurp(dir .. "/execute.txt")
    -- ls's own fd 3 is the directory it reads.
    local want = "0 1 2 3"
    assert.equal(want, listed(popen_ls), popen_ls)
    assert.equal(want, listed(execute_ls), execute_ls)
    -- None of the holder's sockets: popen's own pipe is a socket pair (as
    -- libuv makes its pipes), the child's end its fd 1, fds past 2 none.
    for _, listing in ipairs {popen_ls, execute_ls} do
      for fd in listing:gmatch(" (%d+) %-> socket:") do
        assert.is_true(tonumber(fd) <= 2, listing)
      end
    end
  end)

  it("keeps the attach client's socket close-on-exec", function()
    start_holder()
    local ok, err = pcall(function()
      -- stdin a pipe that stays open: the client waits for lines.
      os.execute(string.format("(sleep 5 | %s sh -c %s) >%s 2>&1 &", CLEAN_EXEC,
        q("echo $$ > " .. q(dir .. "/attach.pid") .. "; exec timeout -k 1 10 " .. q(h.moonsock) ..
          " --attach " .. q(dir .. "/repl.sock")), q(dir .. "/attach.out")))
      local apid
      for _ = 1, 250 do
        apid = (slurp(dir .. "/attach.pid") or ""):match("%d+")
        -- timeout(1) forks the client: find the child.
        local child = apid and h.run("pgrep -P " .. apid):match("%d+")
        local list = child and fds(child) or {}
        if list[3] then
          local n = 0
          for fd, info in pairs(list) do
            if fd > 2 then
              n = n + 1
              assert.are_not.equal(0, info.flags & O_CLOEXEC,
                string.format("attach fd %d (%s) lacks O_CLOEXEC", fd, info.target))
            end
          end
          assert.is_true(n >= 1)
          return
        end
        task.sleep(0.02)
      end
      error("the attach client did not connect: " .. (slurp(dir .. "/attach.out") or ""))
    end)
    finish_holder()
    local apid = (slurp(dir .. "/attach.pid") or ""):match("%d+")
    if apid then h.run("kill " .. apid) end
    assert(ok, err)
  end)

  it("opens the resolver's fds close-on-exec, in every thread (traced by strace)", function()
    if not h.run("command -v strace"):find("strace", 1, true) then
      local reason = "strace is not installed: the resolver's fds live only during a lookup"
      io.stderr:write("inheritance_spec: pending: ", reason, "\n")
      pending(reason)
      return
    end
    local script = h.write_temp(RESOLVE, ".lua")
    local trace = dir .. "/trace"
    -- LeakSanitizer cannot run under ptrace: off for the sanitizer build.
    local _, err, code = h.run(string.format("ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" " ..
      "timeout 60 strace -f -qq -o %s -e trace=%s %s %s", q(trace),
      "open,openat,socket,socketpair,accept,accept4,pipe,pipe2,dup,dup2,dup3,fcntl,eventfd,eventfd2," ..
      "epoll_create,epoll_create1,signalfd,signalfd4,timerfd_create,inotify_init,inotify_init1,memfd_create",
      q(h.moonsock), q(script)))
    assert.equal(0, code, err)
    local calls, resolver_files = 0, 0
    local sanitized = require("spec.fault.support").sanitized()
    -- Threads interleave: a call may be cut into "<unfinished ...>" and
    -- "<... NAME resumed>" lines; join them. strace pads the pid to five
    -- columns: "3925  openat(...)" but "13925 openat(...)".
    local partial = {}
    for line in (slurp(trace) or ""):gmatch("[^\n]+") do
      local tid, head = line:match("^(%d+)%s+(.-) <unfinished %.%.%.>$")
      if tid then
        partial[tid] = head
        line = nil
      else
        local rtid, rest = line:match("^(%d+)%s+<%.%.%. %w+ resumed>(.*)$")
        if rtid then line = rtid .. " " .. (partial[rtid] or "") .. rest end
      end
      -- A call that made an fd: "= N" with N >= 0, not "= -1 ENOENT".
      local call, args, fd
      if line then call, args, fd = line:match("^%d+%s+(%w+)%((.*)%)%s+=%s+(%d+)") end
      -- Lua's own loading of the script file (lua.c's luaL_loadfile) is
      -- Lua's, not moonsock's; it is closed before the script runs.
      if call and args:find(script, 1, true) then call = nil end
      -- The sanitizer build's runtime reads its own /proc/self files
      -- (maps, cmdline, environ) through raw open(2), closing each at once;
      -- glibc and moonsock use openat.
      if call == "open" and sanitized and args:find('^"/proc/self/') then call = nil end
      if call == "dup2" then
        error("dup2 makes an inheritable fd: " .. line)
      elseif call and (call ~= "fcntl" or args:find("F_DUPFD", 1, true)) then
        calls = calls + 1
        if args:find("/etc/hosts", 1, true) then resolver_files = resolver_files + 1 end
        assert.truthy(args:find("CLOEXEC", 1, true), "fd " .. fd .. " made without close-on-exec: " .. line)
      end
    end
    assert.is_true(resolver_files >= 1, "the trace shows no lookup in /etc/hosts")
    assert.is_true(calls >= 4)
    os.remove(script)
  end)

  it("gives a ForkingTCPServer child the sockets Python's has, and a program it runs only 0, 1, 2", function()
    local function run(code, suffix, exe)
      local script = h.write_temp(code, suffix)
      local out_file = dir .. "/" .. suffix .. ".ls"
      local out, err, rc = h.run(string.format("%s timeout -k 2 30 %s %s %s", CLEAN_EXEC, exe, q(script),
        q(out_file)))
      os.remove(script)
      assert.equal(0, rc, err)
      return out, slurp(out_file)
    end
    local py_out, py_ls = run(FORKING_PY, ".py", "python3")
    local ms_out, ms_ls = run(FORKING_LUA, ".lua", q(h.moonsock))
    -- Python's child: the listening socket, the request, the client's end.
    assert.equal("sockets 3\n", py_out)
    assert.equal(py_out, ms_out)
    assert.equal("0 1 2 3", listed(py_ls))
    assert.equal(listed(py_ls), listed(ms_ls))
  end)
end)
