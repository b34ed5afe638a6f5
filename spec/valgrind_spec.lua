-- valgrind's memcheck over the examples that end by themselves (demo.lua
-- and the standalone lookup examples), run by the plain build bin/moonsock:
-- no invalid access, no use of uninitialised memory, nothing definitely
-- lost, and the program's output under valgrind equals that of its Python
-- twin examples/python/NAME.py (ports aside). The embedding hosts and the C
-- tests are checked the same way by spec/embed_spec.lua and spec/c/run.
-- scripts/test --sanitize leaves this file out: valgrind cannot run the
-- sanitizer build, and this file checks the plain binary, which the plain
-- run covers.
-- Bounded: each run is killed by timeout(1) after 120 s (about 2 s each).
local h = require "spec.support.helpers"

-- Always the plain build: h.moonsock may be the sanitizer build.
local MOONSOCK = "bin/moonsock"
local VALGRIND = "valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"

-- Name and arguments: the arguments the examples spec also tries.
local EXAMPLES = {
  {"demo"},
  {"getaddrinfo_canonname", "localhost", "::1", "nosuchname.invalid"},
  {"getaddrinfo_constants", "127.0.0.1", "::1", "nosuchname.invalid"},
  {"getaddrinfo_list", "localhost", "::1", "nosuchname.invalid"},
  {"getfqdn", "localhost", "127.0.0.1", "nosuchname.invalid"},
  {"gethostbyaddr", "127.0.0.1", "localhost", "::1", "nosuchname.invalid"},
  {"gethostbyname", "localhost", "::1", "nosuchname.invalid"},
  {"gethostbyname_ex", "localhost", "127.0.0.1", "nosuchname.invalid"},
  {"gethostbyname_ex_errors", "127.0.0.1", "nosuchname.invalid"},
  {"gethostname", "localhost", "nosuchname.invalid"},
  {"getprotobyname_constants", "icmp", "tcp", "udp"},
  {"getprotobyname_dict", "tcp"},
  {"getprotobyname_table", "tcp", "icmp"},
  {"getservbyname_schemes", "http://a", "imaps://b", "pop3s://c"},
  {"getservbyname_tcp", "ssh", "smtp", "nosuchservice"},
  {"getservbyname_urls", "http://www.python.org", "ftp://x", "Gopher://x", "nourl"},
  {"getservbyport_smtp", "80"},
  {"getservbyport_urls", "22", "23"},
  {"inet_aton_packing", "10.1.2.3", "255.255.255.255", "0.0.0.0"},
  {"inet_pton_ipv6", "::1", "2001:db8::8:800:200c:417a", "::ffff:192.0.2.1"},
}

local function read_file(path) return h.read_file(path) or "" end

-- The demo prints the free port it got: the only difference allowed.
local function normalise(out) return (out:gsub("127%.0%.0%.1:%d+", "127.0.0.1:<port>")) end

describe("valgrind memcheck over the examples", function()
  for _, ex in ipairs(EXAMPLES) do
    local name = ex[1]
    local args = {}
    for i = 2, #ex do args[#args + 1] = h.shell_quote(ex[i]) end
    local argv = table.concat(args, " ")
    it(name .. ": no memory error, nothing definitely lost, Python's output", function()
      local log = os.tmpname()
      local out, err, code = h.run(string.format("timeout 120 %s --log-file=%s %s examples/%s.lua %s </dev/null",
        VALGRIND, log, MOONSOCK, name, argv))
      local report = read_file(log)
      os.remove(log)
      assert.are.equal("", report)
      assert.are.equal(0, code, err)
      local py, pyerr, pycode = h.run(string.format("timeout 60 python3 examples/python/%s.py %s </dev/null",
        name, argv))
      assert.are.equal(0, pycode, pyerr)
      assert.are.equal(normalise(py), normalise(out))
    end)
  end
end)
