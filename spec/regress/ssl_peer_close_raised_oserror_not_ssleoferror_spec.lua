-- A TLS peer that goes away without close_notify: the ssl core raised the
-- kernel's errno (ConnectionResetError, BrokenPipeError) for a read or write
-- whose socket said ECONNRESET or EPIPE, and SSLSyscallError ("Some I/O error
-- occurred") for a call that failed with -1 and no errno. Python 3.11 decides
-- by the OpenSSL call's return value first: SSL_read_ex and SSL_write_ex
-- return 0, which is always SSLEOFError ("EOF occurred in violation of
-- protocol"), so suppress_ragged_eofs also hides a reset under a read; only a
-- handshake or shutdown (-1) with an errno is an OSError, and -1 without one
-- is an EOF too. Each case here meets the same python3 peer twice: once from
-- python3's ssl (the reference), once from moonsock's.
local ssl = require "ssl"
local socket = require "socket"
local task = require "task"
local h = require "spec.support.helpers"
local ex = require "spec.support.examples"
local pki = require("spec.support.pki")()

-- The peer: a real TLS endpoint run through MemoryBIOs over a TCP socket, so
-- it can cut its output. "cut F K fin|rst": sends only K bytes of its flight
-- number F, then closes (a FIN, or a RST with SO_LINGER 0). "abort fin|rst":
-- completes the handshake, then closes without close_notify. As "server" it
-- listens and prints its port; as "client" it connects to PORT.
local PEER = ([==[
import socket, ssl, struct, sys, time
CERT, KEY = %q, %q

def peer(role, mode, sock):
    sock.settimeout(5)
    if role == "server":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(CERT, KEY)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=role == "server")
    words = mode.split()
    cut = words[0] == "cut" and (int(words[1]), int(words[2]))
    def close():
        if words[-1] == "rst":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    flight = 0
    for _ in range(10):
        done = False
        try:
            obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            pass
        data = out.read()
        if data:
            flight += 1
            if cut and flight == cut[0]:
                sock.sendall(data[:cut[1]])
                return close()
            sock.sendall(data)
        if done:
            break
        data = sock.recv(65536)
        if not data:
            break
        inc.write(data)
    time.sleep(0.1)
    close()

if __name__ == "__main__":
    role, mode = sys.argv[1], sys.argv[2]
    if role == "server":
        with socket.create_server(("127.0.0.1", 0)) as l:
            print(l.getsockname()[1], flush=True)
            l.settimeout(10)
            peer(role, mode, l.accept()[0])
    else:
        peer(role, mode, socket.create_connection(("127.0.0.1", int(sys.argv[3]))))
]==]):format(pki.server.cert, pki.server.key)

-- {name, our side, the peer's mode, what we do after the handshake}.
local CASES = {
  {"client handshake, peer closes on our hello", "client", "cut 1 0 fin"},
  {"client handshake, peer closes mid-flight", "client", "cut 1 30 fin"},
  {"client handshake, peer resets on our hello", "client", "cut 1 0 rst"},
  {"server handshake, peer closes mid-hello", "server", "cut 1 30 fin"},
  {"server handshake, peer closes before its Finished", "server", "cut 2 0 fin"},
  {"read, ragged EOF, suppress_ragged_eofs false", "client", "abort fin", "recv", false},
  {"read, ragged EOF, suppress_ragged_eofs true", "client", "abort fin", "recv", true},
  {"read, reset, suppress_ragged_eofs false", "client", "abort rst", "recv", false},
  {"read, reset, suppress_ragged_eofs true", "client", "abort rst", "recv", true},
  {"sendall after the peer closed", "client", "abort fin", "sendall", true},
  {"sendall after the peer reset", "client", "abort rst", "sendall", true},
}

-- The same cases from python3's ssl, the peer in a thread: one line each.
local REFERENCE = PEER:gsub('if __name__ == "__main__":.*$', "") .. [==[
import threading
def describe(e):
    return "%s|%s|%s" % (type(e).__name__, getattr(e, "errno", None), e)
def run(name, side, mode, action, ragged):
    l = socket.create_server(("127.0.0.1", 0))
    port = l.getsockname()[1]
    if side == "client":
        t = threading.Thread(target=lambda: peer("server", mode, l.accept()[0]))
        t.start()
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    else:
        t = threading.Thread(target=lambda: peer("client", mode, socket.create_connection(("127.0.0.1", port))))
        t.start()
        raw = l.accept()[0]
        raw.settimeout(5)
    try:
        if side == "client":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=ragged)
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(CERT, KEY)
            s = ctx.wrap_socket(raw, server_side=True)
        time.sleep(0.3)
        if action == "recv":
            got = [s.recv(10) for _ in range(2)]
            print(name + "|ok|" + "+".join(repr(g) for g in got))
        elif action == "sendall":
            s.sendall(b"x" * 300000)
            print(name + "|ok|sent")
        else:
            print(name + "|ok|handshake")
    except Exception as e:
        print(name + "|" + describe(e))
    t.join()
    l.close()
]==]

local function reference()
  local lines = {}
  for _, c in ipairs(CASES) do
    lines[#lines + 1] = ("run(%q, %q, %q, %q, %s)"):format(c[1], c[2], c[3], c[4] or "",
      c[5] == false and "False" or "True")
  end
  return h.python(REFERENCE .. table.concat(lines, "\n") .. "\n")
end

local peer_path = h.write_temp(PEER, ".py")

-- Starts the peer script in the background; -> proc, port (a server).
local function start_peer(role, mode, port)
  local proc = ex.start(("python3 %s %s %s %s"):format(h.shell_quote(peer_path), role, h.shell_quote(mode),
    port or ""), 20)
  if role ~= "server" then return proc end
  local got
  assert(ex.wait_until(function()
    got = tonumber((h.read_file(proc.dir .. "/out") or ""):match("^(%d+)\n"))
    return got
  end, 10), "the peer never listened")
  return proc, got
end

local function describe_error(e)
  local mt = getmetatable(e)
  return ("%s|%s|%s"):format(mt and mt.__name or type(e), type(e) == "table" and tostring(e.errno) or "nil",
    tostring(e))
end

local function python_repr(s) return "b'" .. s .. "'" end

local function run(c)
  local name, side, mode, action, ragged = c[1], c[2], c[3], c[4], c[5] ~= false
  local proc, raw, l
  if side == "client" then
    local port
    proc, port = start_peer("server", mode)
    raw = socket.create_connection({"127.0.0.1", port}, 5)
  else
    l = socket.create_server({"127.0.0.1", 0})
    l:settimeout(10)
    proc = start_peer("client", mode, l:getsockname()[2])
    raw = l:accept()
    raw:settimeout(5)
    l:close()
  end
  local ok, result = pcall(function()
    local s
    if side == "client" then
      local ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
      ctx.check_hostname = false
      ctx.verify_mode = ssl.CERT_NONE
      s = ctx:wrap_socket(raw, {server_hostname = "localhost", suppress_ragged_eofs = ragged})
    else
      local ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
      ctx:load_cert_chain(pki.server.cert, pki.server.key)
      s = ctx:wrap_socket(raw, {server_side = true})
    end
    task.sleep(0.3)
    if action == "recv" then
      local a = s:recv(10)
      local b = s:recv(10)
      return python_repr(a) .. "+" .. python_repr(b)
    elseif action == "sendall" then
      s:sendall(("x"):rep(300000))
      return "sent"
    end
    return "handshake"
  end)
  ex.finish(proc, 10)
  raw:close()
  return name .. "|" .. (ok and "ok|" .. result or describe_error(result))
end

describe("a TLS peer that closes without close_notify", function()
  teardown(function() os.remove(peer_path) end)

  it("raises what python3's ssl raises, case by case", function()
    local want = reference()
    local got = {}
    -- One task per case: they use their own ports and peers, and run together.
    local tasks = {}
    for i, c in ipairs(CASES) do tasks[i] = task.spawn(run, c) end
    for i, t in ipairs(tasks) do got[i] = t:join(30) end
    assert.are.equal(want, table.concat(got, "\n") .. "\n")
    -- The cases cover both sides of the fix: EOFs, and the handshake's
    -- errno, which stays an OSError.
    assert.matches("SSLEOFError|8|EOF occurred in violation of protocol %(_ssl.c:2580%)", want)
    assert.matches("ConnectionResetError|104|", want)
  end)
end)
