-- The argument-checking sweep of spec/argcheck_spec.lua (issue 7): every
-- function and method that docs/api.md documents is called with each of its
-- arguments replaced in turn by wrong values, and with a wrong self.
--
-- The list of functions is read from docs/api.md when the spec runs, so a
-- function added to the docs without an argument model here fails the spec
-- ("no argument model for X"). What a parameter accepts comes from its name
-- (KINDS), unless the function says otherwise (FUNCS). Each kind has a
-- valid value and a list of wrong ones (KIND, WRONG); methods are called on
-- a fresh receiver (RECEIVER). Every call has its Python counterpart, which
-- python3 runs with the same values (PYMOD, FUNCS' py): moonsock must answer
-- as Python does (accept, or raise a compatible class), and its Lua errors
-- must name the argument they are about. ALLOW lists the differences that
-- are deliberate, PENDING the bugs whose fix is another file's owner's.
--
-- The calls run in child processes (a crash or a hang ends one child, not
-- the spec), from a chunk of cases generated for the group (lua_chunk);
-- M.child is their main program. Each prints one line per call.
local M = {}

-- ---------------------------------------------------------------------------
-- Reading docs/api.md
-- ---------------------------------------------------------------------------

-- The repository's top directory: this file is spec/support/argcheck.lua.
-- Absolute: the children run in a directory of their own.
function M.root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local root = src:match("^(.*)/spec/support/[^/]*$") or "."
  if root:sub(1, 1) ~= "/" then
    local p = io.popen("pwd")
    root = p:read("l") .. "/" .. root
    p:close()
  end
  return root
end

function M.read_doc()
  local f = assert(io.open(M.root() .. "/docs/api.md", "r"))
  local text = f:read("a")
  f:close()
  return text
end

-- "[family[, type[, proto]]]" -> {{name = "family", optional = true}, ...}.
-- A name is optional when it stands inside brackets; "..." is always.
function M.params_of(sig)
  local out, depth, tok, tokdepth = {}, 0, nil, 0
  local function flush()
    if tok then out[#out + 1] = {name = tok, optional = tokdepth > 0 or tok == "..."} end
    tok = nil
  end
  for c in sig:gmatch(".") do
    if c == "[" then
      flush()
      depth = depth + 1
    elseif c == "]" then
      flush()
      depth = depth - 1
    elseif c == "," or c:match("%s") then
      flush()
    elseif c:match("[%w_%.]") then
      if not tok then tok, tokdepth = "", depth end
      tok = tok .. c
    else
      error("unexpected '" .. c .. "' in the signature (" .. sig .. ")")
    end
  end
  flush()
  if depth ~= 0 then error("unbalanced brackets in the signature (" .. sig .. ")") end
  return out
end

-- Every callable the doc documents: "### prefix.name(args)",
-- "### prefix:name(args)", "### cls(args)", and the `repl.name(args)`
-- spans of the repl section (documented as a list, not as headings).
-- Entries: {key, prefix, sep, name, params, body (text), on (class names),
-- line}. Fields (headings without parentheses) are not callable.
function M.entries(text)
  local out, current, section, n, fenced = {}, nil, nil, 0, false
  -- The prose before a section's first heading and under a "### Title"
  -- heading applies to the entries that follow (closed files...).
  local intro, sub, preamble = {}, {}, nil
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if line:match("^```") then fenced = not fenced end
    if not fenced then
      local top = line:match("^## (.+)$")
      if top then
        section = top
        intro, sub = {}, {}
        preamble = intro
      end
      local head = line:match("^### (.+)$")
      if head or top then current = nil end
      if head and not head:find("[%(%.:]") then
        sub = {}
        preamble = sub
      elseif head then
        preamble = nil
      elseif not top and preamble then
        preamble[#preamble + 1] = line
      end
      if head then
        head = head:gsub("%s+$", "")
        local prefix, sep, name, sig = head:match("^([%a][%w_]*)([.:])([%a_][%w_]*)%((.*)%)$")
        if not prefix then
          sig = head:match("^cls%((.*)%)$")
          if sig then prefix, sep, name = "cls", "()", nil end
        end
        if prefix then
          current = {key = prefix .. sep .. (name or ""), prefix = prefix, sep = sep, name = name,
                     params = M.params_of(sig), body = {}, line = n, section = section, text = head,
                     context = table.concat(intro, "\n") .. "\n" .. table.concat(sub, "\n")}
          out[#out + 1] = current
        end
      elseif current then
        current.body[#current.body + 1] = line
        local on = line:match("^On: (.*)$")
        if on then
          current.on = {}
          for c in on:gmatch("`([%w_]+)`") do current.on[#current.on + 1] = c end
        end
      elseif section == "repl" then
        for name, sig in line:gmatch("`repl%.([%a_][%w_]*)%(([^`]-)%)`") do
          out[#out + 1] = {key = "repl." .. name, prefix = "repl", sep = ".", name = name,
                           params = M.params_of(sig), body = {line}, line = n, section = section,
                           text = "repl." .. name .. "(" .. sig .. ")", context = ""}
        end
      end
    end
  end
  for _, e in ipairs(out) do e.body = table.concat(e.body, "\n") end
  return out
end

-- ---------------------------------------------------------------------------
-- Values
-- ---------------------------------------------------------------------------

-- A value is written twice: as a Lua expression for the moonsock child and
-- as a Python expression for python3 (nil: Python has no counterpart, and
-- that call is not compared). Both are evaluated with E (the case's
-- environment: a socketpair E.a/E.b and helpers, see Env below) and R (the
-- receiver) in scope; the Lua side also has M (the modules).
local function v(l, p) return {l = l, p = p} end
M.v = v

-- The huge string: large enough that a function copying or growing it
-- allocates tens of megabytes.
M.HUGE = 1 << 23

-- The wrong values, by label. "table" is an empty table; "ud" a userdata of
-- another kind, io.stdout (Python: an object with Lua io's methods, as
-- io.stdout has them); "co" a coroutine (Python: an object neither iterable
-- nor callable, as a Lua coroutine is neither a list nor a function).
local WRONG = {
  ["nil"] = v("nil", "None"),
  bool = v("true", "True"),
  table = v("{}", "{}"),
  fn = v("function() end", "(lambda *a, **k: None)"),
  co = v("coroutine.create(function() end)", "E.coroutine()"),
  ud = v("io.stdout", "E.luafile()"),
  str = v('"x"', "'x'"),
  str_b = v('"x"', "b'x'"),
  tuple = v("{}", "()"),
  num = v("1", "1"),
  nan = v("0/0", "float('nan')"),
  inf = v("math.huge", "float('inf')"),
  neg = v("-1", "-1"),
  minint = v("math.mininteger", "-2**63"),
  maxint = v("math.maxinteger", "2**63-1"),
  float = v("1.5", "1.5"),
  nul_b = v('"a\\0b"', "b'a\\x00b'"),
  nul_t = v('"a\\0b"', "'a\\x00b'"),
  huge_b = v("HUGE", "HUGE_B"),
  huge_t = v("HUGE", "HUGE_T"),
  closed = v("E:closed()", "E.closed()"),
  nofileno = v("{fileno = function() return 'x' end}", "E.fileno_returns('x')"),
  -- socket addresses out of range or malformed
  a_empty = v("{}", "()"),
  a_short = v('{"127.0.0.1"}', "('127.0.0.1',)"),
  a_portneg = v('{"127.0.0.1", -1}', "('127.0.0.1', -1)"),
  a_portbig = v('{"127.0.0.1", 65536}', "('127.0.0.1', 65536)"),
  a_portstr = v('{"127.0.0.1", "x"}', "('127.0.0.1', 'x')"),
  a_portfloat = v('{"127.0.0.1", 1.5}', "('127.0.0.1', 1.5)"),
  a_portnan = v('{"127.0.0.1", 0/0}', "('127.0.0.1', float('nan'))"),
  a_porthuge = v('{"127.0.0.1", math.maxinteger}', "('127.0.0.1', 2**63-1)"),
  a_hostnum = v("{1, 0}", "(1, 0)"),
  a_hostnul = v('{"a\\0b", 0}', "('a\\x00b', 0)"),
  a_hostbool = v("{true, 0}", "(True, 0)"),
  -- lists with a wrong element
  l_str = v('{"x"}', "['x']"),
  l_num = v("{1}", "[1]"),
  l_neg = v("{-1}", "[-1]"),
  l_table = v("{{}}", "[{}]"),
  l_bool = v("{true}"), -- Python's True is the fd 1
  l_float = v("{1.5}", "[1.5]"),
  l_maxint = v("{math.maxinteger}", "[2**63-1]"),
  l_nofileno = v("{{fileno = function() return 'x' end}}", "[E.fileno_returns('x')]"),
  l_huge_b = v("{HUGE}", "[HUGE_B]"),
}
M.WRONG = WRONG

local TYPES = {"bool", "table", "fn", "co", "ud"}
local function join(...)
  local out = {}
  for _, t in ipairs {...} do
    for _, x in ipairs(t) do out[#out + 1] = x end
  end
  return out
end
local NUMBERS = {"str", "nan", "inf", "neg", "minint", "maxint"}

-- The kinds of parameters: a valid value and the wrong values to try ("nil"
-- is added for a required parameter).
local KIND = {
  int = {valid = v("0", "0"), wrong = join(TYPES, NUMBERS, {"float"})},
  size = {valid = v("1", "1"), wrong = join(TYPES, NUMBERS, {"float"})},
  number = {valid = v("0", "0"), wrong = join(TYPES, NUMBERS)},
  bytes = {valid = v('"x"', "b'x'"), wrong = join(TYPES, {"num", "nul_b", "huge_b"})},
  text = {valid = v('"x"', "'x'"), wrong = join(TYPES, {"num", "nul_t", "huge_t"})},
  bool = {valid = v("true", "True"), wrong = {"str", "num", "table", "fn", "co", "ud"}},
  fn = {valid = v("function() end", "(lambda *a, **k: None)"), wrong = {"bool", "table", "str", "num", "co", "ud"}},
  any = {valid = v("1", "1"), wrong = {"bool", "table", "fn", "co", "ud", "str", "num", "nan"}},
  table = {valid = v("{}", "{}"), wrong = {"bool", "str", "num", "fn", "co", "ud"}},
  address = {valid = v('{"127.0.0.1", 0}', "('127.0.0.1', 0)"),
             wrong = {"bool", "fn", "co", "ud", "str", "num", "a_empty", "a_short", "a_portneg", "a_portbig",
                      "a_portstr", "a_portfloat", "a_portnan", "a_porthuge", "a_hostnum", "a_hostnul",
                      "a_hostbool"}},
  -- an fd, or an object with a fileno() method
  fileobj = {valid = v("E.a", "E.a"),
             wrong = join(TYPES, NUMBERS, {"float", "nofileno"})},
  -- an integer fd
  fd = {valid = v("E.a:fileno()", "E.a.fileno()"), wrong = join(TYPES, NUMBERS, {"float"})},
  sock = {valid = v("E.b", "E.b"), wrong = join(TYPES, {"str", "num", "closed"})},
  fileobjs = {valid = v("{E.a}", "[E.a]"),
              wrong = {"bool", "fn", "co", "ud", "str", "num", "l_str", "l_neg", "l_table", "l_bool",
                       "l_float", "l_maxint", "l_nofileno"}},
  buffers = {valid = v('{"x"}', "[b'x']"),
             wrong = {"bool", "fn", "co", "ud", "num", "l_num", "l_table", "l_bool", "l_huge_b"}},
  fds = {valid = v("{E.b:fileno()}", "[E.b.fileno()]"),
         wrong = {"bool", "fn", "co", "ud", "str", "num", "l_str", "l_neg", "l_table", "l_float", "l_maxint"}},
}
M.KIND = KIND

-- ---------------------------------------------------------------------------
-- The argument model
-- ---------------------------------------------------------------------------

-- Parameter name -> kind, wherever the name appears (PARAM_KIND overrides it
-- for one function).
M.KINDS = {
  family = "int", type = "int", proto = "int", fileno = "fd", fd = "fd", timeout = "number",
  sock = "sock", buffers = "buffers", fds = "fds", flags = "int", address = "address",
  bufsize = "size", maxfds = "size", length = "size", backlog = "int", data = "bytes",
  file = "any", offset = "size", count = "size", how = "int", level = "int", option = "int",
  optname = "int", buflen = "int", value = "int", flag = "bool", mode = "text", buffering = "int",
  limit = "int", hint = "int", list = "table", size = "int", host = "text", name = "text",
  port = "int", sockaddr = "address", text = "text", packed = "bytes", x = "int", index = "int",
  fn = "fn", ["..."] = "any", seconds = "number", blocking = "bool", n = "int", lock = "any",
  predicate = "fn", maxsize = "int", item = "any", block = "bool", args = "table", kwargs = "table",
  rlist = "fileobjs", wlist = "fileobjs", xlist = "fileobjs", sizehint = "int", eventmask = "int",
  maxevents = "int", fileobj = "fileobj", events = "int", server_address = "address",
  RequestHandlerClass = "fn", bind_and_activate = "bool", request = "sock", client_address = "any",
  server = "any", initial = "bytes", base1 = "class", base2 = "class", fields = "table", cls = "class",
  obj = "any", sub = "class", v = "any", mt = "any", poll_interval = "number", opts = "table", map = "table",
  use_poll = "bool", ignore_all = "bool", num = "int", addr = "address", buffer_size = "size",
  message = "text", haystack = "bytes", needle = "bytes", term = "bytes", producer = "table",
  strict = "bool", first = "ipobj", last = "ipobj", addresses = "table", s = "bytes", spec = "text",
  other = "ipobj", network = "ipobj", prefixlen_diff = "int", new_prefix = "int", url = "text",
  scheme = "text", allow_fragments = "bool", parts = "table", base = "text", string = "text",
  safe = "text", encoding = "text", errors = "text", bs = "bytes", qs = "text",
  keep_blank_values = "bool", strict_parsing = "bool", max_num_fields = "int", separator = "text",
  query = "table", doseq = "bool", quote_via = "fn", netloc = "text", path = "text", params = "text",
  fragment = "text", changes = "table", sep = "bytes", bytes_per_sep = "int", hexstr = "bytes",
  pid = "int", options = "int", status = "int", sig = "int", code = "int", mask = "int",
  bases = "table", module = "text", err = "any", clsname = "text", errno = "int", msg = "text",
  t = "table", env = "table", source_address = "address", listening = "int", unset_environment = "bool",
}


-- Kinds that only some functions use (through PARAM_KIND).
local MORE_WRONG = {
  anc_short = v("{{1, 2}}", "[(1, 2)]"),
  anc_types = v('{{"x", 1, "d"}}', "[('x', 1, b'd')]"),
  o_backlog = v('{backlog = "x"}', "{'backlog': 'x'}"),
  o_family = v('{family = "x"}', "{'family': 'x'}"),
  o_familyneg = v("{family = -1}", "{'family': -1}"),
  o_dual = v("{dualstack_ipv6 = true}", "{'dualstack_ipv6': True}"),
  o_unknown = v("{bogus = 1}", "{'bogus': 1}"),
  ch_unknown = v('{x = ""}', "{'x': ''}"),
  q_short = v('{{"a"}}', "[('a',)]"),
  parts_short = v('{"http"}', "('http',)"),
  parts_num = v("{1, 2, 3, 4, 5, 6}", "(1, 2, 3, 4, 5, 6)"),
}
for k, x in pairs(MORE_WRONG) do WRONG[k] = x end

local STRINGS_T = {"num", "nul_t", "huge_t"}
KIND.class = {valid = v("M.class.object"), wrong = join(TYPES, {"str", "num"})}
KIND.ipobj = {valid = v('M.ipaddress.IPv4Network("192.0.2.0/25")', "ipaddress.IPv4Network('192.0.2.0/25')"),
              wrong = join(TYPES, {"str", "num"})}
KIND.ipin = {valid = v('"192.0.2.1"', "'192.0.2.1'"),
             wrong = {"bool", "tuple", "fn", "co", "ud", "str", "nan", "inf", "neg", "minint", "maxint", "float",
                      "nul_t", "huge_t"}}
KIND.fmt = {valid = v('"l"'), wrong = join(TYPES, {"str", "nan", "inf", "neg", "minint", "maxint", "float"})}
KIND.wdata = {valid = v('"x"', "b'x'"), wrong = join({"nil"}, TYPES, {"nul_b", "huge_b"})}
KIND.term = {valid = v('"\\n"', "b'\\n'"), wrong = join(TYPES, {"nan", "inf", "neg", "minint", "float", "nul_b"})}
KIND.lockobj = {valid = v("M.task.Lock()", "threading.Lock()"), wrong = join(TYPES, {"str", "num"})}
KIND.producer = {valid = v('M.asynchat.simple_producer("x")', "asynchat.simple_producer(b'x')"),
                 wrong = join(TYPES, {"str_b", "num"})}
KIND.handler = {valid = v("M.socketserver.BaseRequestHandler", "socketserver.BaseRequestHandler"),
                wrong = {"bool", "table", "str", "num", "co", "ud"}}
KIND.ancdata = {valid = v("{}", "[]"),
                wrong = {"bool", "fn", "co", "ud", "str", "num", "l_num", "l_str", "l_table", "anc_short", "anc_types"}}
KIND.strlist = {valid = v('{"x"}', "[b'x']"), wrong = {"bool", "fn", "co", "ud", "str", "num", "l_table", "l_bool"}}
KIND.query = {valid = v('{{"a", "1"}}', "[('a', '1')]"),
              wrong = {"bool", "fn", "co", "ud", "str", "num", "l_str", "l_num", "q_short"}}
KIND.classlist = {valid = v("{M.class.object}"), wrong = {"bool", "fn", "co", "ud", "str", "num", "l_str", "l_num"}}
KIND.path = {valid = v("E:path()", "E.path()"), wrong = join(TYPES, STRINGS_T)}
KIND.rfile = {valid = v("E:rfile()", "E.rfile()"),
              wrong = {"bool", "table", "fn", "co", "str", "nan", "inf", "neg", "minint", "maxint", "float"}}
KIND.server_opts = {valid = v("{}", "{}"),
                    wrong = {"bool", "fn", "co", "ud", "str", "num", "o_backlog", "o_family", "o_familyneg", "o_dual",
                             "o_unknown"}}
KIND.changes = {valid = v('{fragment = ""}', "{'fragment': ''}"),
                wrong = {"bool", "fn", "co", "ud", "str", "num", "ch_unknown"}}
KIND.sockoptval = {valid = v("4096", "4096"),
                   wrong = {"table", "fn", "co", "ud", "str_b", "nan", "inf", "float", "maxint", "minint", "neg"}}
KIND.port = {valid = v("0", "0"), wrong = join(TYPES, {"nan", "inf", "neg", "minint", "maxint", "float", "nul_t"})}
-- signal.signal's handler: SIG_DFL (0), SIG_IGN (1) or a function (1 is valid)
KIND.sighandler = {valid = v("0", "0"), wrong = join(TYPES, {"str", "nan", "neg", "maxint", "float"})}
-- signal.wait's list of signal numbers
KIND.signums = {valid = v("{12}", "[12]"), wrong = {"bool", "fn", "co", "ud", "str", "num", "l_str", "l_neg", "l_table",
                                                    "l_float", "l_maxint"}}
-- ssl: a key's password (a string or a function), ALPN protocol names, a MemoryBIO
KIND.password = {valid = v('"x"', "'x'"), wrong = {"bool", "table", "co", "ud", "num"}}
KIND.protolist = {valid = v('{"h2"}', "['h2']"),
                  wrong = {"bool", "fn", "co", "ud", "num", "l_num", "l_table", "l_bool"}}
KIND.membio = {valid = v("M.ssl.MemoryBIO()", "ssl.MemoryBIO()"), wrong = join(TYPES, {"str", "num"})}
KIND.parts = {valid = v('{"http", "h", "/p", "", "q", "f"}', "('http', 'h', '/p', '', 'q', 'f')"),
              wrong = {"bool", "fn", "co", "ud", "str", "num", "parts_short", "parts_num"}}

-- LuaSocket's argument models: its functions take strings or numbers for
-- addresses and ports, and check only the types.
local LS_TYPES = {"bool", "table", "fn", "co", "ud"}
local LS_CONNECT = {
  kinds = {address = "text", port = "any", laddress = "text", lport = "any", family = "text"},
  valid = {address = v('"127.0.0.1"'), port = v('"1"'), laddress = v('"127.0.0.1"'), lport = v('"0"'),
           family = v('"inet"')},
  wrong = {address = LS_TYPES, port = LS_TYPES, laddress = LS_TYPES, lport = LS_TYPES,
           family = join(LS_TYPES, {"str"})},
}

-- The functions whose parameters, receiver or Python counterpart need
-- more than the defaults. Fields:
--   kinds = {param = kind}: kinds other than KINDS'
--   valid = {param = value}: valid values other than the kind's
--   recv = value: the receiver of a method (else RECEIVER[prefix])
--   py = template | false: the Python call ({R} the receiver, {ARGS} the
--     arguments, {1}.. each one) or false for no counterpart
--   always = k: the first k parameters are always passed (Python requires them)
--   sig = params: the parameter list, where the doc's needs a reading
--   before/after = {l =, p =}: statements run before/after the call
--   isolate = true: each call in a forked process (it may end it)
--   wrong = {param = labels}: wrong values other than the kind's
M.FUNCS = {
  -- socket
  ["socket.socket"] = {valid = {family = v("2", "2"), type = v("1", "1"), fileno = v("E:fd()", "E.fd()")}},
  ["socket.socketpair"] = {valid = {family = v("1", "1"), type = v("1", "1")}},
  ["socket.fromfd"] = {always = 3, valid = {family = v("1", "1"), type = v("1", "1")}},
  ["socket.close"] = {valid = {fd = v("E:fd()", "E.fd()")}},
  ["socket.setdefaulttimeout"] = {after = {l = "M.socket.setdefaulttimeout(nil)",
                                            p = "socket.setdefaulttimeout(None)"}},
  ["socket.issocket"] = {py = false},
  -- LuaSocket's names: no Python counterpart. A wrong type must be refused
  -- naming the argument; a wrong value is LuaSocket's business (nil, err).
  ["socket.tcp"] = {py = false}, ["socket.tcp4"] = {py = false}, ["socket.tcp6"] = {py = false},
  ["socket.udp"] = {py = false}, ["socket.udp4"] = {py = false}, ["socket.udp6"] = {py = false},
  ["socket.gettime"] = {py = false},
  ["socket.connect"] = {py = false, kinds = LS_CONNECT.kinds, valid = LS_CONNECT.valid, wrong = LS_CONNECT.wrong},
  ["socket.connect4"] = {py = false, kinds = LS_CONNECT.kinds, valid = LS_CONNECT.valid, wrong = LS_CONNECT.wrong},
  ["socket.connect6"] = {py = false, kinds = LS_CONNECT.kinds, valid = LS_CONNECT.valid, wrong = LS_CONNECT.wrong},
  ["socket.bind"] = {py = false, kinds = {address = "text", port = "any", backlog = "number"},
                     valid = {address = v('"127.0.0.1"'), port = v("0"), backlog = v("1")},
                     wrong = {address = LS_TYPES, port = LS_TYPES, backlog = join(LS_TYPES, {"str"})}},
  -- recvt holds an object that is dirty: the call never waits
  ["socket.select"] = {py = false, always = 3, kinds = {recvt = "table", sendt = "table", timeout = "number"},
                       valid = {recvt = v("{{getfd = function() return -1 end, dirty = function() return true end}}"),
                                sendt = v("{}"), timeout = v("0")}},
  ["socket.sleep"] = {py = false, kinds = {time = "number"},
                      wrong = {time = join(LS_TYPES, {"str", "nan", "neg"})}},
  ["socket.newtry"] = {py = false, kinds = {finalizer = "fn"}},
  -- try(nil, err) raises a wrapped error by design: only a true first value is valid.
  ["socket.try"] = {py = false, always = 1, kinds = {["..."] = "text"}, wrong = {["..."] = {}}},
  ["socket.protect"] = {py = false},
  ["socket.skip"] = {py = false, kinds = {n = "int"}},
  ["socket.choose"] = {py = false, kinds = {t = "table"}},
  ["socket.sink"] = {py = false, kinds = {mode = "text", sock = "any"},
                     valid = {mode = v('"keep-open"'), sock = v("M.socket.tcp()")},
                     wrong = {mode = {"str"}, sock = {}}},
  ["socket.source"] = {py = false, kinds = {mode = "text", sock = "any", length = "int"},
                       valid = {mode = v('"by-length"'), sock = v("M.socket.tcp()"), length = v("1")},
                       wrong = {mode = {"str"}, sock = {}, length = {}}},
  ["socket.create_connection"] = {valid = {address = v("E:listen_addr()", "E.listen_addr()"), timeout = v("2", "2")}},
  ["socket.create_server"] = {kinds = {opts = "server_opts"}, py = "socket.create_server({1}, **{2})",
                             py_default = {[2] = "{}"}},
  ["socket.send_fds"] = {valid = {sock = v("E.a", "E.a")}, kinds = {address = "path"}},
  ["socket.recv_fds"] = {valid = {sock = v("E.a", "E.a")}},
  ["socket.gethostbyname"] = {valid = {host = v('"127.0.0.1"', "'127.0.0.1'")}},
  ["socket.gethostbyname_ex"] = {valid = {host = v('"127.0.0.1"', "'127.0.0.1'")}},
  ["socket.gethostbyaddr"] = {valid = {host = v('"127.0.0.1"', "'127.0.0.1'")}},
  ["socket.getfqdn"] = {valid = {name = v('"127.0.0.1"', "'127.0.0.1'")}},
  ["socket.getaddrinfo"] = {kinds = {port = "port"}, valid = {host = v('"127.0.0.1"', "'127.0.0.1'")}},
  ["socket.getnameinfo"] = {valid = {sockaddr = v('{"127.0.0.1", 80}', "('127.0.0.1', 80)"), flags = v("3", "3")}},
  ["socket.getservbyname"] = {kinds = {proto = "text"},
                              valid = {name = v('"http"', "'http'"), proto = v('"tcp"', "'tcp'")}},
  ["socket.getservbyport"] = {kinds = {proto = "text"}, valid = {port = v("80", "80"), proto = v('"tcp"', "'tcp'")}},
  ["socket.getprotobyname"] = {valid = {name = v('"tcp"', "'tcp'")}},
  ["socket.inet_aton"] = {valid = {text = v('"127.0.0.1"', "'127.0.0.1'")}},
  ["socket.inet_ntoa"] = {valid = {packed = v('"\\127\\0\\0\\1"', "b'\\x7f\\x00\\x00\\x01'")}},
  ["socket.inet_pton"] = {valid = {family = v("2", "2"), text = v('"127.0.0.1"', "'127.0.0.1'")}},
  ["socket.inet_ntop"] = {valid = {family = v("2", "2"), packed = v('"\\127\\0\\0\\1"', "b'\\x7f\\x00\\x00\\x01'")}},
  ["socket.if_nametoindex"] = {valid = {name = v('"lo"', "'lo'")}},
  ["socket.if_indextoname"] = {valid = {index = v("1", "1")}},
  ["sock:bind"] = {recv = v("E:inet()", "E.inet()")},
  ["sock:listen"] = {recv = v("E:inet()", "E.inet()")},
  ["sock:connect"] = {recv = v("E:inet(2)", "E.inet(2)"), valid = {address = v("E:listen_addr()", "E.listen_addr()")}},
  ["sock:connect_ex"] = {recv = v("E:inet(2)", "E.inet(2)"),
                         valid = {address = v("E:listen_addr()", "E.listen_addr()")}},
  ["sock:recvmsg"] = {kinds = {ancbufsize = "size"}},
  ["sock:sendto"] = {recv = v("E:udp()", "E.udp()"), valid = {address = v("E:udp_addr()", "E.udp_addr()")}},
  ["sock:sendmsg"] = {kinds = {ancdata = "ancdata", address = "path"}},
  ["sock:sendfile"] = {recv = v("E:blocking()", "E.blocking()"), kinds = {file = "rfile"}},
  ["sock:shutdown"] = {valid = {how = v("1", "1")}},
  ["sock:getsockopt"] = {valid = {level = v("1", "1"), option = v("3", "3"), buflen = v("4", "4")}},
  ["sock:setsockopt"] = {kinds = {value = "sockoptval"}, valid = {level = v("1", "1"), option = v("7", "7")}},
  ["sock:makefile"] = {valid = {mode = v('"rb"', "'rb'")}},
  -- makefile objects: Lua io's methods have no Python counterpart
  ["file:read"] = {kinds = {["..."] = "fmt"}, py = false},
  ["file:lines"] = {kinds = {["..."] = "fmt"}, py = false},
  ["file:write"] = {kinds = {["..."] = "wdata"}, py = false, always = 1},
  ["file:writelines"] = {kinds = {list = "strlist"}},
  ["file:setvbuf"] = {valid = {mode = v('"full"'), size = v("1024")}, py = false},
  -- task
  ["task.spawn"] = {py = false},
  ["task.spawn_daemon"] = {py = false},
  ["task.sleep"] = {py = "time.sleep({ARGS})"},
  ["t:join"] = {valid = {timeout = v("2")}, py = false},
  ["t:setdaemon"] = {py = false},
  ["lock:with"] = {py = false},
  ["rlock:with"] = {py = false},
  ["sem:with"] = {py = false},
  ["cond:with"] = {py = false},
  ["lock:acquire"] = {valid = {timeout = v("1", "1")}},
  ["rlock:acquire"] = {valid = {timeout = v("1", "1")}},
  ["sem:acquire"] = {valid = {timeout = v("1", "1")}},
  ["sem:release"] = {valid = {n = v("1", "1")}},
  ["bsem:release"] = {valid = {n = v("1", "1")}},
  ["task.Semaphore"] = {py = "threading.Semaphore({ARGS})"},
  ["task.BoundedSemaphore"] = {py = "threading.BoundedSemaphore({ARGS})"},
  ["task.Condition"] = {kinds = {lock = "lockobj"}, py = "threading.Condition({ARGS})"},
  ["task.Queue"] = {py = "queue.Queue({ARGS})"},
  ["task.LifoQueue"] = {py = "queue.LifoQueue({ARGS})"},
  ["task.PriorityQueue"] = {py = "queue.PriorityQueue({ARGS})"},
  ["cond:acquire"] = {kinds = {["..."] = "bool"}},
  ["cond:wait_for"] = {valid = {predicate = v("function() return true end", "(lambda: True)")}},
  ["cond:notify"] = {valid = {n = v("1", "1")}},
  ["q:put"] = {valid = {timeout = v("1", "1")}},
  ["q:get"] = {valid = {timeout = v("1", "1")}},
  -- thread
  ["thread.start_new_thread"] = {valid = {args = v("{}", "()")}},
  -- select
  ["select.select"] = {valid = {timeout = v("0", "0")}},
  ["select.epoll"] = {valid = {sizehint = v("-1", "-1")}},
  ["poll:register"] = {kinds = {fd = "fileobj"}, valid = {fd = v("E.b", "E.b"), eventmask = v("1", "1")}},
  ["poll:modify"] = {kinds = {fd = "fileobj"}, valid = {eventmask = v("1", "1")}},
  ["poll:unregister"] = {kinds = {fd = "fileobj"}},
  ["epoll:register"] = {kinds = {fd = "fileobj"}, valid = {fd = v("E.b", "E.b"), eventmask = v("1", "1")}},
  ["epoll:modify"] = {kinds = {fd = "fileobj"}, valid = {eventmask = v("1", "1")}},
  ["epoll:unregister"] = {kinds = {fd = "fileobj"}},
  ["epoll:poll"] = {valid = {maxevents = v("1", "1")}},
  -- selectors
  -- a named tuple: Python takes any value for each field
  ["selectors.SelectorKey"] = {kinds = {fileobj = "any", fd = "any", events = "any", data = "any"}},
  ["sel:register"] = {kinds = {data = "any"}, valid = {fileobj = v("E.b", "E.b"), events = v("1", "1")}},
  ["sel:modify"] = {kinds = {data = "any"}, valid = {events = v("1", "1")}},
  -- socketserver
  ["socketserver.BaseServer"] = {kinds = {server_address = "any", RequestHandlerClass = "handler"}},
  ["socketserver.BaseRequestHandler"] = {valid = {request = v("E.a", "E.a"), client_address = v("{}", "()")}},
  ["socketserver.StreamRequestHandler"] = {valid = {request = v("E.a", "E.a"), client_address = v("{}", "()")}},
  ["socketserver.DatagramRequestHandler"] = {
    kinds = {request = "any", client_address = "address"},
    valid = {request = v('M.repr.tuple("x", E:udp())', "(b'x', E.udp())"),
             client_address = v("E:udp_addr()", "E.udp_addr()")}},
  ["socketserver.class"] = {py = false, sig = {{name = "base1"}, {name = "fields", optional = true}}},
  ["socketserver.super"] = {py = false, valid = {obj = v("M.class.object()")}},
  ["socketserver.isinstance"] = {py = false},
  ["socketserver.issubclass"] = {py = false},
  ["socketserver.isclass"] = {py = false},
  ["server:serve_forever"] = {
    valid = {poll_interval = v("0.01", "0.01")},
    before = {l = "M.task.spawn_daemon(function() M.task.sleep(0.05) R:shutdown() end)",
              p = "t = threading.Timer(0.05, R.shutdown); t.daemon = True; t.start()"}},
  ["server:collect_children"] = {recv = v("E:server('ForkingTCPServer')", "E.server('ForkingTCPServer')"),
                                 py = "R.collect_children(**{1})", py_default = {"{}"}},
  ["server:process_request_thread"] = {recv = v("E:server('ThreadingTCPServer')", "E.server('ThreadingTCPServer')")},
  ["writer:write"] = {kinds = {["..."] = "wdata"}, always = 1},
  ["bio:read"] = {kinds = {["..."] = "fmt"}, py = false},
  ["bio:lines"] = {kinds = {["..."] = "fmt"}, py = false},
  ["bio:write"] = {kinds = {["..."] = "wdata"}, always = 1},
  ["socketserver.BytesIO"] = {py = "io.BytesIO({ARGS})"},
  -- moonsock's own servers, and two Python 3.12 has and the 3.11 here lacks
  ["socketserver.PreforkTCPServer"] = {py = false},
  ["socketserver.PreforkThreadingTCPServer"] = {py = false},
  ["socketserver.UnixStreamServer"] = {kinds = {server_address = "path"}},
  ["socketserver.UnixDatagramServer"] = {kinds = {server_address = "path"}},
  ["socketserver.ThreadingUnixStreamServer"] = {kinds = {server_address = "path"}},
  ["socketserver.ThreadingUnixDatagramServer"] = {kinds = {server_address = "path"}},
  ["socketserver.ForkingUnixStreamServer"] = {kinds = {server_address = "path"}, py = false},
  ["socketserver.ForkingUnixDatagramServer"] = {kinds = {server_address = "path"}, py = false},
  ["disp:initiate_send"] = {recv = v("E:track(M.asyncore.dispatcher_with_send(E.a, {}))",
                                     "E.track(asyncore.dispatcher_with_send(E.a, {}))")},
  -- asyncore, asynchat
  ["asyncore.loop"] = {valid = {use_poll = v("false", "False"), count = v("1", "1")}},
  ["asyncore.read"] = {valid = {obj = v("E:disp()", "E.disp()")}},
  ["asyncore.write"] = {valid = {obj = v("E:disp()", "E.disp()")}},
  ["asyncore.readwrite"] = {valid = {obj = v("E:disp()", "E.disp()")}},
  ["asyncore.close_all"] = {valid = {ignore_all = v("false", "False")}},
  ["asyncore.dispatcher"] = {valid = {sock = v("E.a", "E.a")}},
  ["asyncore.dispatcher_with_send"] = {valid = {sock = v("E.a", "E.a")}},
  ["asyncore.file_dispatcher"] = {kinds = {fd = "fileobj"}},
  ["asyncore.class"] = {py = false, sig = {{name = "base1"}, {name = "fields", optional = true}}},
  ["asyncore.isinstance"] = {py = false},
  ["asyncore.super"] = {py = false, valid = {obj = v("M.class.object()")}},
  ["disp:create_socket"] = {recv = v("E:disp_bare()", "E.disp_bare()"),
                            valid = {family = v("2", "2"), type = v("1", "1")}},
  ["disp:set_socket"] = {recv = v("E:disp_bare()", "E.disp_bare()")},
  ["disp:listen"] = {valid = {num = v("5", "5")}},
  ["disp:connect"] = {valid = {address = v("E:listen_addr()", "E.listen_addr()")}},
  ["disp:send"] = {recv = v("E:disp()", "E.disp()")},
  ["disp:recv"] = {recv = v("E:disp()", "E.disp()")},
  ["disp:log_info"] = {kinds = {type = "text"}, valid = {type = v('"warning"', "'warning'")}},
  ["disp:handle_accepted"] = {kinds = {addr = "any"}},
  ["disp:set_file"] = {recv = v("E:file_disp()", "E.file_disp()"), valid = {fd = v("E.b:fileno()", "E.b.fileno()")}},
  ["wrapper:getsockopt"] = {valid = {level = v("1", "1"), optname = v("4", "4")}},
  ["asynchat.simple_producer"] = {valid = {buffer_size = v("512", "512")}},
  ["asynchat.find_prefix_at_end"] = {valid = {haystack = v('"ab"', "b'ab'"), needle = v('"bc"', "b'bc'")}},
  ["chat:set_terminator"] = {kinds = {term = "term"}},
  ["chat:push_with_producer"] = {kinds = {producer = "producer"}},
  -- ipaddress
  ["ipaddress.ip_address"] = {kinds = {address = "ipin"}},
  ["ipaddress.ip_network"] = {kinds = {address = "ipin"}, valid = {address = v('"192.0.2.0/24"', "'192.0.2.0/24'")}},
  ["ipaddress.ip_interface"] = {kinds = {address = "ipin"}, valid = {address = v('"192.0.2.1/24"', "'192.0.2.1/24'")}},
  ["ipaddress.IPv4Address"] = {kinds = {address = "ipin"}},
  ["ipaddress.IPv4Network"] = {kinds = {address = "ipin"}, valid = {address = v('"192.0.2.0/24"', "'192.0.2.0/24'")}},
  ["ipaddress.IPv4Interface"] = {kinds = {address = "ipin"},
                                 valid = {address = v('"192.0.2.1/24"', "'192.0.2.1/24'")}},
  ["ipaddress.IPv6Address"] = {kinds = {address = "ipin"}, valid = {address = v('"2001:db8::1"', "'2001:db8::1'")}},
  ["ipaddress.IPv6Network"] = {kinds = {address = "ipin"},
                               valid = {address = v('"2001:db8::/32"', "'2001:db8::/32'")}},
  ["ipaddress.IPv6Interface"] = {kinds = {address = "ipin"},
                                 valid = {address = v('"2001:db8::1/64"', "'2001:db8::1/64'")}},
  ["ipaddress.v4_int_to_packed"] = {kinds = {address = "int"}},
  ["ipaddress.v6_int_to_packed"] = {kinds = {address = "int"}},
  ["ipaddress.summarize_address_range"] = {
    valid = {first = v('M.ipaddress.IPv4Address("192.0.2.0")', "ipaddress.IPv4Address('192.0.2.0')"),
             last = v('M.ipaddress.IPv4Address("192.0.2.255")', "ipaddress.IPv4Address('192.0.2.255')")},
    py = "list(ipaddress.summarize_address_range({ARGS}))"},
  ["ipaddress.collapse_addresses"] = {
    valid = {addresses = v('{M.ipaddress.IPv4Address("192.0.2.1")}', "[ipaddress.IPv4Address('192.0.2.1')]")},
    -- a function is a Lua iterator, which the doc accepts
    wrong = {addresses = {"bool", "co", "ud", "str", "num", "l_str", "l_num"}},
    py = "list(ipaddress.collapse_addresses({ARGS}))"},
  ["ipaddress.get_mixed_type_key"] = {py = "ipaddress.get_mixed_type_key({ARGS})"},
  ["ipaddress.bytes"] = {py = false},
  ["x:isinstance"] = {valid = {cls = v("M.ipaddress.IPv4Address", "ipaddress.IPv4Address")}, py = "isinstance(R, {1})"},
  ["x:format"] = {valid = {spec = v('""', "''")}, py = "format(R, {1})", py_default = {"''"}},
  ["net:getitem"] = {py = "R[{1}]"},
  ["net:contains"] = {valid = {other = v('M.ipaddress.IPv4Address("192.0.2.5")', "ipaddress.IPv4Address('192.0.2.5')")},
                      py = "{1} in R"},
  ["net:address_exclude"] = {py = "list(R.address_exclude({ARGS}))"},
  ["net:subnets"] = {py = "list(R.subnets({ARGS}))"},
  -- urllib.parse: a table in place of an optional argument is an options table
  ["parse.urlunparse"] = {kinds = {parts = "parts"}},
  ["parse.urlunsplit"] = {kinds = {parts = "parts"}, valid = {parts = v('{"http", "h", "/p", "q", "f"}',
                                                                         "('http', 'h', '/p', 'q', 'f')")}},
  ["parse.quote_from_bytes"] = {kinds = {safe = "text"}},
  ["parse.quote"] = {valid = {encoding = v('"utf-8"', "'utf-8'"), errors = v('"strict"', "'strict'")}},
  ["parse.quote_plus"] = {valid = {encoding = v('"utf-8"', "'utf-8'"), errors = v('"strict"', "'strict'")}},
  ["parse.unquote"] = {valid = {encoding = v('"utf-8"', "'utf-8'"), errors = v('"strict"', "'strict'")}},
  ["parse.unquote_plus"] = {valid = {encoding = v('"utf-8"', "'utf-8'"), errors = v('"strict"', "'strict'")}},
  ["parse.parse_qsl"] = {valid = {encoding = v('"utf-8"', "'utf-8'"), errors = v('"strict"', "'strict'"),
                                  separator = v('"&"', "'&'")}},
  ["parse.parse_qs"] = {valid = {encoding = v('"utf-8"', "'utf-8'"), errors = v('"strict"', "'strict'"),
                                 separator = v('"&"', "'&'")}},
  ["parse.urlencode"] = {kinds = {query = "query"},
                         valid = {encoding = v('"utf-8"', "'utf-8'"), errors = v('"strict"', "'strict'")}},
  ["parse.ParseResult"] = {kinds = {query = "text"}},
  ["parse.SplitResult"] = {kinds = {query = "text"}},
  ["r:_replace"] = {kinds = {changes = "changes"}, py = "R._replace(**{1})"},
  -- ssl
  -- LuaSec's names: no Python counterpart; a wrong type is refused naming
  -- the argument, a wrong value is LuaSec's business (nil, err).
  ["ssl.wrap"] = {py = false, kinds = {sock = "any", params = "table"},
                  valid = {sock = v("M.socket.tcp()"), params = v('{mode = "client", protocol = "any"}')},
                  wrong = {sock = {"bool", "str", "num", "table", "fn", "co", "ud"},
                           params = {"bool", "str", "num", "fn", "co", "ud"}}},
  ["ssl.newcontext"] = {py = false, kinds = {params = "table"},
                        valid = {params = v('{mode = "client", protocol = "any"}')}},
  ["ssl.loadcertificate"] = {py = false, kinds = {pem = "text"},
                             wrong = {pem = {"bool", "num", "table", "fn", "co", "ud"}}},
  ["ssl.SSLContext"] = {kinds = {protocol = "int"}, valid = {protocol = v("16", "16")}},
  ["ssl.create_default_context"] = {kinds = {purpose = "table"}, valid = {
    purpose = v("M.ssl.Purpose.SERVER_AUTH", "ssl.Purpose.SERVER_AUTH")}},
  ["ssl.cert_time_to_seconds"] = {kinds = {cert_time = "text"}, valid = {
    cert_time = v('"May  9 00:00:00 2007 GMT"', "'May  9 00:00:00 2007 GMT'")}},
  ["ssl.DER_cert_to_PEM_cert"] = {kinds = {der = "bytes"}, valid = {der = v('"0\\0"', "b'0\\x00'")}},
  ["ssl.PEM_cert_to_DER_cert"] = {kinds = {pem = "text"}, valid = {
    pem = v('"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n"',
            "'-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n'")}},
  -- subprocess: options as Python's keyword arguments, always passed
  ["subprocess.run"] = {always = 2, valid = {args = v('{"true"}', "['true']")}, py = "subprocess.run({1}, **{2})"},
  ["subprocess.Popen"] = {always = 2, valid = {args = v('{"true"}', "['true']")},
                          py = "subprocess.Popen({1}, **{2})"},
  ["subprocess.call"] = {always = 2, valid = {args = v('{"true"}', "['true']")}, py = "subprocess.call({1}, **{2})"},
  ["subprocess.check_call"] = {always = 2, valid = {args = v('{"true"}', "['true']")},
                               py = "subprocess.check_call({1}, **{2})"},
  ["subprocess.check_output"] = {always = 2, valid = {args = v('{"true"}', "['true']")},
                                 py = "subprocess.check_output({1}, **{2})"},
  ["subprocess.CompletedProcess"] = {kinds = {args = "any", returncode = "any", stdout = "any", stderr = "any"}},
  -- a child that has not ended yet: a timeout of 0 or less is then
  -- TimeoutExpired on both sides, not a race with the child's exit
  ["proc:communicate"] = {kinds = {input = "bytes"}, recv = v('M.subprocess.Popen({"sleep", "0.2"})',
                                                             "subprocess.Popen(['sleep', '0.2'])")},
  ["proc:wait"] = {recv = v('M.subprocess.Popen({"sleep", "0.2"})', "subprocess.Popen(['sleep', '0.2'])")},
  -- whether the child has ended decides Python's answer to a bad signal
  ["proc:send_signal"] = {py = false},
  -- ssl's objects. A client context (ctx), an SSLSocket not connected yet
  -- (tls: a connected pair would need a TLS server in every child; the
  -- methods that need a connection answer ValueError or ENOTCONN before
  -- it, in both), a MemoryBIO (membio).
  ["ctx:load_cert_chain"] = {kinds = {certfile = "path", keyfile = "path", password = "password"}},
  ["ctx:load_verify_locations"] = {kinds = {cafile = "path", capath = "path", cadata = "text"},
                                   valid = {cadata = v('"-----BEGIN CERTIFICATE-----\\n"',
                                                       "'-----BEGIN CERTIFICATE-----\\n'")}},
  ["ctx:load_default_certs"] = {kinds = {purpose = "table"},
                                valid = {purpose = v("M.ssl.Purpose.SERVER_AUTH", "ssl.Purpose.SERVER_AUTH")}},
  ["ctx:set_ciphers"] = {kinds = {list = "text"}, valid = {list = v('"DEFAULT"', "'DEFAULT'")}},
  ["ctx:set_alpn_protocols"] = {kinds = {protocols = "protolist"}},
  ["ctx:set_ecdh_curve"] = {valid = {name = v('"prime256v1"', "'prime256v1'")}},
  ["ctx:get_ca_certs"] = {kinds = {binary_form = "bool"}},
  ["ctx:set_servername_callback"] = {recv = v("M.ssl.SSLContext(17)", "ssl.SSLContext(17)")},
  ["ctx:wrap_socket"] = {valid = {sock = v("E:inet()", "E.inet()"),
                                  opts = v('{server_hostname = "localhost"}', "{'server_hostname': 'localhost'}")},
                         py = "E.track(R.wrap_socket({1}, **{2}))", py_default = {[2] = "{}"}},
  -- always with server_hostname: without it moonsock refuses a client's
  -- wrap_bio as its wrap_socket (doc), where Python's accepts it
  ["ctx:wrap_bio"] = {always = 3, kinds = {incoming = "membio", outgoing = "membio"},
                      valid = {opts = v('{server_hostname = "localhost"}', "{'server_hostname': 'localhost'}")},
                      py = "R.wrap_bio({1}, {2}, **{3})", py_default = {[3] = "{}"}},
  ["tls:read"] = {kinds = {len = "int"}, valid = {len = v("1", "1")}},
  ["tls:getpeercert"] = {kinds = {binary_form = "bool"}},
  ["tls:get_verified_chain"] = {py = false},
  ["tls:get_unverified_chain"] = {py = false},
  ["tls:get_channel_binding"] = {kinds = {cb_type = "text"}, valid = {cb_type = v('"tls-unique"', "'tls-unique'")}},
  ["tls:sendfile"] = {kinds = {file = "rfile"}},
  ["tls:shutdown"] = {valid = {how = v("1", "1")}},
  ["tls:getsockopt"] = {valid = {level = v("1", "1"), option = v("3", "3"), buflen = v("4", "4")}},
  ["tls:setsockopt"] = {kinds = {value = "sockoptval"}, valid = {level = v("1", "1"), option = v("7", "7")}},
  ["tls:makefile"] = {valid = {mode = v('"rb"', "'rb'")}},
  ["tls:sendto"] = {valid = {address = v("E:listen_addr()", "E.listen_addr()")}},
  ["tls:connect"] = {valid = {address = v("E:listen_addr()", "E.listen_addr()")}},
  ["tls:connect_ex"] = {valid = {address = v("E:listen_addr()", "E.listen_addr()")}},
  ["membio:close"] = {py = false},
  -- LuaSec's connections and certificates: their reference is stock lua5.4
  -- with lua-sec (spec/luasec_spec.lua), which this sweep does not run, so
  -- every argument is "any": the calls are checked for crashes, hangs, and
  -- errors that name their argument and self, not against LuaSec's values.
  ["conn:sni"] = {py = false, kinds = {name = "any"}, valid = {name = v('"localhost"')}},
  ["conn:receive"] = {py = false, kinds = {pattern = "any", prefix = "any"}, valid = {pattern = v('"*l"'),
                                                                                        prefix = v('""')}},
  ["conn:send"] = {py = false, kinds = {data = "any", i = "any", j = "any"}, valid = {data = v('"x"')}},
  ["conn:settimeout"] = {py = false, kinds = {t = "any", mode = "any"}, valid = {t = v("0"), mode = v('"b"')}},
  -- not fd 1 (nor any other real one): the connection would own and close it
  ["conn:setfd"] = {py = false, kinds = {fd = "any"}, valid = {fd = v("-1")},
                    wrong = {fd = {"bool", "table", "fn", "co", "ud", "str"}}},
  ["conn:setstats"] = {py = false, kinds = {received = "any", sent = "any", age = "any"}},
  ["conn:setoption"] = {py = false, always = 2, kinds = {option = "any", value = "any"},
                        valid = {option = v('"tcp-nodelay"'), value = v("true")}},
  ["conn:getoption"] = {py = false, kinds = {option = "any"}, valid = {option = v('"tcp-nodelay"')}},
  ["conn:shutdown"] = {py = false, kinds = {how = "any"}, valid = {how = v('"both"')}},
  ["conn:getpeercertificate"] = {py = false, kinds = {n = "any"}, valid = {n = v("0")}},
  ["conn:info"] = {py = false, kinds = {field = "any"}, valid = {field = v('"cipher"')}},
  ["conn:setdane"] = {py = false, kinds = {basedomain = "any"}, valid = {basedomain = v('"localhost"')}},
  ["conn:settlsa"] = {py = false, kinds = {usage = "any", selector = "any", mtype = "any", data = "any"},
                      valid = {usage = v("3"), selector = v("1"), mtype = v("1"), data = v('"x"')}},
  ["x509:digest"] = {py = false, kinds = {alg = "any"}, valid = {alg = v('"sha256"')}},
  ["x509:validat"] = {py = false, kinds = {time = "any"}, valid = {time = v("0")}},
  ["x509:setencode"] = {py = false, kinds = {name = "any"}, valid = {name = v('"utf8"')}},
  -- binascii
  ["binascii.unhexlify"] = {valid = {hexstr = v('"00"', "b'00'")}},
  ["binascii.a2b_hex"] = {valid = {hexstr = v('"00"', "b'00'")}},
  -- moonsock.posix
  ["posix.waitpid"] = {valid = {pid = v("-1", "-1"), options = v("1", "1")}},
  ["posix._exit"] = {isolate = true},
  ["posix.kill"] = {valid = {pid = v("E.pid", "E.pid")}},
  ["posix.strerror"] = {valid = {code = v("1", "1")}},
  -- moonsock's own: no counterpart in Python's os; SIGUSR2 (12) is nobody's here
  ["posix.set_pdeathsig"] = {py = false},
  -- systemd.daemon: python-systemd is Debian's python3's, not the reference's
  ["daemon.notify"] = {kinds = {status = "text"}},
  ["posix.umask"] = {valid = {mask = v("18", "18")},
                     after = {l = "M.posix.umask(E.umask)", p = "os.umask(E.umask)"}},
  -- signal: SIGUSR2 (12) is nobody's here
  ["signal.signal"] = {kinds = {signalnum = "int", handler = "sighandler"}, valid = {signalnum = v("12", "12")},
                       after = {l = "M.signal.signal(12, 0)", p = "signal.signal(12, signal.SIG_DFL)"}},
  ["signal.getsignal"] = {kinds = {signalnum = "int"}, valid = {signalnum = v("12", "12")}},
  ["signal.default_int_handler"] = {kinds = {signum = "any", frame = "any"}, valid = {signum = v("2", "2")}},
  ["signal.raise_signal"] = {kinds = {signalnum = "int"}},
  ["signal.strsignal"] = {kinds = {signalnum = "int"}, valid = {signalnum = v("12", "12")}},
  ["signal.alarm"] = {kinds = {seconds = "int"}, after = {l = "M.signal.alarm(0)", p = "signal.alarm(0)"}},
  -- A handler and a timer end the pause; Python's would wait for ever.
  ["signal.pause"] = {py = false, before = {l = "M.signal.signal(14, function() end) M.signal.setitimer(0, 0.01)"},
                      after = {l = "M.signal.signal(14, 0)"}},
  ["signal.setitimer"] = {kinds = {which = "int", seconds = "number", interval = "number"},
                          after = {l = "M.signal.setitimer(0, 0)", p = "signal.setitimer(0, 0)"}},
  ["signal.getitimer"] = {kinds = {which = "int"}},
  ["signal.pthread_sigmask"] = {kinds = {how = "int", mask = "signums"},
                                valid = {how = v("0", "0"), mask = v("{12}", "[12]")},
                                after = {l = "M.signal.pthread_sigmask(1, {12})",
                                         p = "signal.pthread_sigmask(1, [12])"}},
  ["signal.set_wakeup_fd"] = {kinds = {fd = "int"}, valid = {fd = v("-1", "-1")}},
  ["signal.wait"] = {py = false, always = 2, kinds = {signums = "signums"}, valid = {timeout = v("0")}},
  -- moonsock.class
  ["class.class"] = {sig = {{name = "base1"}, {name = "fields", optional = true}}},
  ["class.super"] = {valid = {obj = v("M.class.object()")}},
  ["class.make"] = {kinds = {bases = "classlist"}},
  -- Plain Lua classes have no Python counterpart to ask.
  ["class.instance_of"] = {py = false},
  ["class.property_index"] = {py = false, kinds = {methods = "table", getters = "table", fallback = "fn"}},
  ["Class:mixin"] = {recv = v("M.class.object:extend{}"), valid = {base = v("M.class.object:extend{}")},
                     kinds = {base = "class"}},
  ["cls:matches"] = {kinds = {err = "any"}},
  ["err:isinstance"] = {valid = {cls = v("M.errors.OSError")}},
  ["errors.raise_new"] = {valid = {clsname = v('"OSError"'), errno = v("111")}, nil_ok = {errno = true}},
  ["errors.define"] = {kinds = {base = "class"}, valid = {name = v('"ArgcheckError"'), base = v("M.errors.Exception")}},
  -- repl
  ["repl.serve"] = {kinds = {path = "path"}, isolate = true},
  ["repl.compile"] = {kinds = {code = "text", env = "table"}, valid = {code = v('"return 1"')}},
  ["repl.complete"] = {sig = {{name = "text"}, {name = "env", optional = true}}, valid = {text = v('"so"')}},
  ["repl.show"] = {},
}

-- The receiver of each object prefix's methods (FUNCS' recv overrides it),
-- with Python's; "On:" classes get theirs from FUNCS.
M.RECEIVER = {
  sock = v("E.a", "E.a"),
  file = v('E:track(E.a:makefile("rwb"))', "E.track(E.a.makefile('rwb'))"),
  t = v("M.task.spawn(function() return 1 end)"),
  lock = v("M.task.Lock()", "threading.Lock()"),
  rlock = v("M.task.RLock()", "threading.RLock()"),
  sem = v("M.task.Semaphore()", "threading.Semaphore()"),
  bsem = v("E:acquired(M.task.BoundedSemaphore())", "E.acquired(threading.BoundedSemaphore())"),
  ev = v("M.task.Event()", "threading.Event()"),
  cond = v("E:acquired(M.task.Condition())", "E.acquired(threading.Condition())"),
  q = v("E:filled(M.task.Queue())", "E.filled(queue.Queue())"),
  poll = v("E:poll()", "E.poll()"),
  epoll = v("E:epoll()", "E.epoll()"),
  sel = v("E:selector()", "E.selector()"),
  server = v('E:server("TCPServer")', "E.server('TCPServer')"),
  handler = v("E:handler()", "E.handler()"),
  writer = v("E:writer()", "E.writer()"),
  bio = v('M.socketserver.BytesIO("hello\\nworld\\n")', "io.BytesIO(b'hello\\nworld\\n')"),
  disp = v("E:disp_bound()", "E.disp_bound()"),
  wrapper = v("E:track(M.asyncore.file_wrapper(E.a:fileno()))", "E.track(asyncore.file_wrapper(E.a.fileno()))"),
  chat = v("E:chat()", "E.chat()"),
  producer = v('M.asynchat.simple_producer("data")', "asynchat.simple_producer(b'data')"),
  dq = v("M.asynchat.deque()", "collections.deque()"),
  x = v('M.ipaddress.IPv4Address("192.0.2.1")', "ipaddress.IPv4Address('192.0.2.1')"),
  addr = v('M.ipaddress.IPv4Interface("192.0.2.1/24")', "ipaddress.IPv4Interface('192.0.2.1/24')"),
  iface = v('M.ipaddress.IPv4Interface("192.0.2.1/24")', "ipaddress.IPv4Interface('192.0.2.1/24')"),
  net = v('M.ipaddress.IPv4Network("192.0.2.0/24")', "ipaddress.IPv4Network('192.0.2.0/24')"),
  it = v('M.ipaddress.IPv4Network("192.0.2.0/30"):iter()', "iter(ipaddress.IPv4Network('192.0.2.0/30'))"),
  r = v('M.parse.urlparse("http://u:p@h:1/p;x?q#f")', "urllib.parse.urlparse('http://u:p@h:1/p;x?q#f')"),
  Class = v("M.class.object"),
  ctx = v("M.ssl.SSLContext(16)", "ssl.SSLContext(16)"),
  tls = v('E:track(M.ssl.SSLContext(16):wrap_socket(E:inet(), {server_hostname = "localhost"}))',
          "E.track(ssl.SSLContext(16).wrap_socket(E.inet(), server_hostname='localhost'))"),
  membio = v("M.ssl.MemoryBIO()", "ssl.MemoryBIO()"),
  conn = v("E:luasec_conn()"),
  x509 = v("M.ssl.loadcertificate(M.ssl.DER_cert_to_PEM_cert(M.ssl.create_default_context():get_ca_certs(true)[1]))"),
  cls = v("M.errors.OSError"),
  proc = v('M.subprocess.Popen({"true"})', "subprocess.Popen(['true'])"),
  cp = v('M.subprocess.run({"true"})', "subprocess.run(['true'])"),
  err = v('M.errors.OSError(111, "x")'),
}

-- Prefixes whose objects can be closed: their methods are also called on a
-- closed receiver (a closed socket must raise EBADF, as Python's).
M.CLOSABLE = {sock = true, file = true, epoll = true, sel = true, server = true, writer = true, bio = true,
              disp = true, wrapper = true, chat = true, tls = true}

-- The Python module of each module prefix (the other modules are
-- moonsock's own: their functions need a py in FUNCS to be compared).
M.PYMOD = {socket = "socket", select = "select", selectors = "selectors", socketserver = "socketserver",
           asyncore = "asyncore", asynchat = "asynchat", ipaddress = "ipaddress", parse = "urllib.parse",
           binascii = "binascii", posix = "os", thread = "_thread", ssl = "ssl", subprocess = "subprocess",
           signal = "signal"}

-- The module each prefix calls (the Lua side's M.<prefix>).
M.MODULES = {socket = "socket", task = "task", thread = "thread", select = "select", selectors = "selectors",
             socketserver = "socketserver", asyncore = "asyncore", asynchat = "asynchat",
             ipaddress = "ipaddress", parse = "urllib.parse", binascii = "binascii", errno = "errno",
             posix = "moonsock.posix", class = "moonsock.class", errors = "moonsock.errors",
             repr = "moonsock.repr", repl = "repl", ssl = "ssl", subprocess = "subprocess", signal = "signal",
             daemon = "systemd.daemon"}

-- ---------------------------------------------------------------------------
-- Cases
-- ---------------------------------------------------------------------------

local function is_method(e) return e.sep == ":" end

-- The wrong labels that are wrong types (as opposed to values out of range):
-- a call with no Python counterpart must still refuse them.
local TYPE_LABELS = {["nil"] = true, bool = true, table = true, fn = true, co = true, ud = true}

-- The kinds that are numbers.
M.NUMERIC = {int = true, size = true, number = true, fd = true, port = true, sockoptval = true, fileobj = true,
             ipin = true}

-- Functions that take an options table (Python's keyword arguments) in
-- place of an optional argument: a table there is no wrong value.
M.OPTIONS = {"^parse%.", "^binascii%.hexlify$", "^binascii%.b2a_hex$", "^asyncore%.loop$", "^net:subnets$",
             "^ssl%.create_default_context$", "^ssl%.get_server_certificate$",
             "^net:supernet$"}

local function takes_options(key)
  for _, pat in ipairs(M.OPTIONS) do
    if key:match(pat) then return true end
  end
  return false
end

-- cases(entries) -> cases, problems. A case: {id, key, entry, what = "base"
-- | "arg" | "self", index (the parameter replaced), param, label, args (value
-- specs), recv (value spec), selfv (value spec), title, group}.
function M.cases(entries)
  local out, problems = {}, {}
  for _, e in ipairs(entries) do
    local f = M.FUNCS[e.key] or {}
    local params = f.sig or e.params
    local ok = true
    local kinds = {}
    for i, p in ipairs(params) do
      local kind = (f.kinds or {})[p.name] or M.KINDS[p.name]
      if not kind or not KIND[kind] then
        problems[#problems + 1] = "no argument model for " .. e.text .. " (parameter " .. p.name .. ")"
        ok = false
      end
      kinds[i] = kind
    end
    local recv
    if is_method(e) or e.sep == "()" then
      recv = f.recv or M.RECEIVER[e.prefix]
      if not recv then
        problems[#problems + 1] = "no argument model for " .. e.text .. " (no receiver for " .. e.prefix .. ")"
        ok = false
      end
    elseif not M.MODULES[e.prefix] then
      problems[#problems + 1] = "no argument model for " .. e.text .. " (unknown module " .. e.prefix .. ")"
      ok = false
    end
    if ok then
      local function valid(i)
        return (f.valid or {})[params[i].name] or KIND[kinds[i]].valid
      end
      local last_required = 0
      for i, p in ipairs(params) do
        if not p.optional then last_required = i end
      end
      local function make(what, index, label)
        local n = math.max(index or 0, last_required, f.always or 0)
        local args = {}
        for j = 1, n do args[j] = (j == index) and WRONG[label] or valid(j) end
        local c = {key = e.key, entry = e, what = what, index = index, label = label, args = args, n = n,
                   recv = recv, f = f, params = params, kind = index and kinds[index],
                   group = e.prefix}
        if index then
          c.param = params[index].name
          c.title = e.key .. ": " .. c.param .. " = " .. WRONG[label].l
        elseif what == "self" then
          c.title = e.key .. ": self = " .. (label == "closed" and "closed" or WRONG[label].l)
        else
          c.title = e.key .. ": valid arguments"
        end
        out[#out + 1] = c
        c.id = #out
      end
      if #params > 0 then make("base") end
      for i, p in ipairs(params) do
        local labels = (f.wrong or {})[p.name] or KIND[kinds[i]].wrong
        if not p.optional and not (f.nil_ok or {})[p.name] then make("arg", i, "nil") end
        for _, label in ipairs(labels) do
          if not (label == "table" and p.optional and takes_options(e.key)) then make("arg", i, label) end
        end
      end
      if is_method(e) then
        for _, label in ipairs {"nil", "table"} do make("self", nil, label) end
        if M.CLOSABLE[e.prefix] then make("self", nil, "closed") end
      end
    end
  end
  return out, problems
end

-- The groups of cases, one spec test each: a prefix ("socket", "sock"...).
function M.groups(cases)
  local order, by = {}, {}
  for _, c in ipairs(cases) do
    if not by[c.group] then
      by[c.group] = {name = c.group, cases = {}}
      order[#order + 1] = by[c.group]
    end
    table.insert(by[c.group].cases, c)
  end
  return order
end

-- ---------------------------------------------------------------------------
-- The Lua side: a generated chunk per group, run by M.child
-- ---------------------------------------------------------------------------

local function lua_call(c, argsexpr)
  local e = c.entry
  if e.sep == "()" then return "R(" .. argsexpr .. ")" end
  if c.what == "self" then
    if c.label == "closed" then return "R:" .. e.name .. "(" .. argsexpr .. ")" end
    local sep = argsexpr ~= "" and ", " or ""
    return "R." .. e.name .. "(W" .. sep .. argsexpr .. ")"
  end
  if is_method(e) then return "R:" .. e.name .. "(" .. argsexpr .. ")" end
  return "M." .. e.prefix .. "." .. e.name .. "(" .. argsexpr .. ")"
end

-- The chunk returns a list of {id, prepare, after, isolate}: prepare(E, M,
-- HUGE) builds the receiver and the arguments and returns the call. Each
-- case's c.line is the chunk's line of its call, the line its argument
-- errors must name (see blames_caller).
function M.lua_chunk(cases)
  local out = {"local C = {}"}
  local nlines = 1
  for _, c in ipairs(cases) do
    local vals = {}
    for i = 1, c.n do vals[i] = "(" .. c.args[i].l .. ")" end
    local lines = {"C[#C + 1] = {id = " .. c.id .. ", isolate = " .. tostring(c.f.isolate == true) .. ","}
    lines[#lines + 1] = "prepare = function(E, M, HUGE) -- luacheck: ignore"
    lines[#lines + 1] = "  local R = " .. (c.recv and c.recv.l or "nil")
    if c.what == "self" then
      if c.label == "closed" then
        lines[#lines + 1] = "  E:closing(R)"
      else
        lines[#lines + 1] = "  local W = " .. WRONG[c.label].l
      end
    end
    lines[#lines + 1] = "  local A = table.pack(" .. table.concat(vals, ", ") .. ")"
    lines[#lines + 1] = "  return function()"
    if c.f.before then lines[#lines + 1] = "    " .. c.f.before.l end
    lines[#lines + 1] = "    return table.pack(" .. lua_call(c, "table.unpack(A, 1, A.n)") .. ")"
    c.line = nlines + #lines
    lines[#lines + 1] = "  end"
    lines[#lines + 1] = "end,"
    if c.f.after then
      lines[#lines + 1] = "after = function(E, M) " .. c.f.after.l .. " end,"
    end
    lines[#lines + 1] = "}"
    out[#out + 1] = table.concat(lines, "\n")
    nlines = nlines + #lines
  end
  out[#out + 1] = "return C"
  return table.concat(out, "\n") .. "\n"
end

-- The environment of one call: a connected socketpair E.a, E.b (E.a has
-- "hello\nworld\n" to read, then the end of the stream; both non-blocking)
-- and the helpers the receivers and values use. E:close() closes all it made.
local Env = {}
Env.__index = Env

local function mods()
  local t = {}
  for prefix, name in pairs(M.MODULES) do t[prefix] = require(name) end
  return t
end

function M.new_env(ctx)
  local socket = require "socket"
  local E = setmetatable({_made = {}, ctx = ctx, M = ctx.M, pid = ctx.pid, umask = ctx.umask}, Env)
  local a, b = socket.socketpair()
  E.a, E.b = E:track(a), E:track(b)
  b:sendall("hello\nworld\n")
  b:shutdown(socket.SHUT_WR)
  a:settimeout(0)
  b:settimeout(0)
  return E
end

function Env:track(obj)
  self._made[#self._made + 1] = obj
  return obj
end

local function close_one(obj)
  local socket = require "socket"
  if math.type(obj) == "integer" then return pcall(socket.close, obj) end
  if io.type(obj) == "file" then return pcall(obj.close, obj) end
  local ok, sc = pcall(function() return obj.server_close end)
  if ok and type(sc) == "function" then return pcall(sc, obj) end
  local okc, c = pcall(function() return obj.close end)
  if okc and type(c) == "function" then return pcall(c, obj) end
end
M.close_one = close_one

function Env:close()
  for i = #self._made, 1, -1 do close_one(self._made[i]) end
  self._made = {}
end

function Env:inet(timeout)
  local socket = self.M.socket
  local s = self:track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
  s:settimeout(timeout or 0)
  return s
end

function Env:listener()
  if not self._listener then
    local s = self:inet()
    s:bind({"127.0.0.1", 0})
    s:listen()
    self._listener = s
  end
  return self._listener
end

function Env:listen_addr() return self:listener():getsockname() end

-- A LuaSec client connection over a LuaSocket client of the listener, which
-- never accepts: non-blocking, so that a handshake answers "wantread".
function Env:luasec_conn()
  local addr = self:listen_addr()
  local c = self:track(assert(self.M.ssl.wrap(assert(self.M.socket.connect(addr[1], addr[2])),
    {mode = "client", protocol = "any"})))
  c:settimeout(0)
  return c
end

function Env:udp()
  local socket = self.M.socket
  local s = self:track(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
  s:bind({"127.0.0.1", 0})
  s:settimeout(0)
  return s
end

function Env:udp_addr()
  self._udp = self._udp or self:udp()
  return self._udp:getsockname()
end

function Env:closed()
  local s = self.M.socket.socket()
  s:close()
  return s
end

-- A fresh fd that no socket object owns.
function Env:fd()
  local s = self.M.socket.socket()
  return self:track(s:detach())
end

function Env:path()
  self.ctx.paths = self.ctx.paths + 1
  return self.ctx.tmp .. "/p" .. self.ctx.paths
end

function Env:rfile()
  local path = self:path()
  local f = assert(io.open(path, "wb"))
  f:write("hello\n")
  f:close()
  return self:track(assert(io.open(path, "rb")))
end

function Env:blocking()
  self.a:settimeout(2)
  return self.a
end

function Env.acquired(_, obj)
  obj:acquire()
  return obj
end

function Env.filled(_, q)
  q:put("item")
  return q
end

function Env:poll()
  local p = self.M.select.poll()
  p:register(self.a)
  return p
end

function Env:epoll()
  local p = self:track(self.M.select.epoll())
  p:register(self.a)
  return p
end

function Env:selector()
  local s = self:track(self.M.selectors.EpollSelector())
  s:register(self.a, 1)
  return s
end

function Env:server(name)
  local ss = self.M.socketserver
  return self:track(ss[name]({"127.0.0.1", 0}, ss.BaseRequestHandler))
end

function Env:handler()
  return self.M.socketserver.StreamRequestHandler(self.a, {"127.0.0.1", 0}, "server")
end

-- socketserver keeps _SocketWriter to itself: a handler's wfile is one.
function Env:writer()
  local ss = self.M.socketserver
  local x, y = self.M.socket.socketpair()
  local h = ss.StreamRequestHandler(x, {"127.0.0.1", 0}, "server")
  x:close()
  y:close()
  return getmetatable(h.wfile)(self.a)
end

function Env:disp_bare() return self:track(self.M.asyncore.dispatcher(nil, {})) end

function Env:disp_bound()
  local d = self:disp_bare()
  d:create_socket()
  return d
end

function Env:disp() return self:track(self.M.asyncore.dispatcher(self.a, {})) end

function Env:file_disp() return self:track(self.M.asyncore.file_dispatcher(self.a, {})) end

function Env:chat()
  local c = self:track(self.M.asynchat.async_chat(self.a, {}))
  c:set_terminator("\n")
  return c
end

-- The receiver, closed the way its kind closes.
function Env.closing(_, obj)
  close_one(obj)
  return obj
end

-- What an outcome looks like on a result line: a status and a detail.
local function classify(ok, val)
  local errors = require "moonsock.errors"
  if ok then
    local parts = {}
    for i = 1, math.min(val.n or 0, 3) do parts[i] = type(val[i]) end
    return "ok", table.concat(parts, ",")
  end
  if type(val) == "string" then
    if val:find("bad argument", 1, true) or val:find("bad self", 1, true) then return "argerr", val end
    return "str", val
  end
  local mt = getmetatable(val)
  if type(val) == "table" and type(mt) == "table" and errors[mt.__name] == mt then
    local names, c = {}, mt
    while type(c) == "table" and c.__name do
      names[#names + 1] = c.__name:match("[^.]*$")
      c = rawget(c, "__base")
    end
    return "obj", table.concat(names, ",") .. "|" .. tostring(val)
  end
  return "other", type(val) .. ": " .. tostring(val)
end
M.classify = classify

local function emit(...)
  local parts = table.pack(...)
  for i = 1, parts.n do
    parts[i] = tostring(parts[i]):gsub("[%c]", " ")
    if #parts[i] > 400 then parts[i] = parts[i]:sub(1, 400) .. "..." end
  end
  io.stdout:write("\1", table.concat(parts, "\t"), "\n")
  io.stdout:flush()
end

-- Closes what a call returned (sockets, servers...), so that fds do not pile up.
local function close_results(r)
  for i = 1, math.min(r.n or 0, 4) do
    local x = r[i]
    if type(x) == "userdata" or (type(x) == "table" and getmetatable(x) ~= nil) then close_one(x) end
  end
end

-- Runs one case in a task of its own, bounded by a join timeout.
local function run_case(ctx, c)
  local task = ctx.M.task
  local h = task.spawn(function()
    local E = M.new_env(ctx)
    local okp, call = pcall(c.prepare, E, ctx.M, ctx.HUGE)
    if not okp then
      E:close()
      return "setup", tostring(call)
    end
    local ok, r = pcall(call)
    if ok then pcall(close_results, r) end
    if c.after then pcall(c.after, E, ctx.M) end
    E:close()
    return classify(ok, r)
  end)
  local ok, status, detail = pcall(h.join, h, ctx.timeout)
  if ok then return status, detail end
  if not (h:done()) then
    h:cancel()
    pcall(h.join, h, 1)
    return "hang", "no answer in " .. ctx.timeout .. " s"
  end
  return "setup", "join: " .. tostring(status)
end

-- A case that may end the process runs in a child of the child.
local function run_isolated(ctx, c)
  local posix = ctx.M.posix
  io.stdout:flush()
  local pid = posix.fork()
  if pid == 0 then
    local E = M.new_env(ctx)
    local okp, call = pcall(c.prepare, E, ctx.M, ctx.HUGE)
    if not okp then
      emit("R", c.id, "setup", tostring(call))
    else
      emit("R", c.id, classify(pcall(call)))
    end
    io.stdout:flush()
    posix._exit(250)
  end
  local _, status = posix.waitpid(pid, 0)
  if posix.WIFEXITED(status) and posix.WEXITSTATUS(status) == 250 then return nil end
  return "exit", tostring(posix.waitstatus_to_exitcode(status))
end

-- After each call: the runtime still runs tasks and moves bytes.
local function healthy(ctx)
  local socket, task = ctx.M.socket, ctx.M.task
  return pcall(function()
    local a, b = socket.socketpair()
    a:settimeout(2)
    b:settimeout(2)
    local h = task.spawn(function() return b:recv(1) end)
    a:sendall("x")
    assert(h:join(2) == "x", "no byte through a socketpair")
    a:close()
    b:close()
    task.sleep(0)
  end)
end

-- The child's main program: runs the cases of the chunk at path, from id
-- first on, printing "\1S id" before and "\1R id status detail" after each.
function M.child(path, first, tmp)
  local ctx = {M = mods(), timeout = 3, tmp = tmp, paths = 0, HUGE = string.rep("x", M.HUGE)}
  ctx.pid = ctx.M.posix.getpid()
  ctx.umask = ctx.M.posix.umask(18)
  ctx.M.posix.umask(ctx.umask)
  local cases = assert(loadfile(path))()
  for i, c in ipairs(cases) do
    if c.id >= first then
      emit("S", c.id)
      if c.isolate then
        local status, detail = run_isolated(ctx, c)
        if status then emit("R", c.id, status, detail) end
      else
        emit("R", c.id, run_case(ctx, c))
      end
      local ok, err = healthy(ctx)
      if not ok then
        emit("B", c.id, tostring(err))
        os.exit(3)
      end
      if i % 64 == 0 then collectgarbage() end
    end
  end
  emit("D")
end

-- ---------------------------------------------------------------------------
-- The Python side: the same calls, in one python3 script per group
-- ---------------------------------------------------------------------------

M.PY_PRELUDE = [=[
import warnings
warnings.simplefilter('ignore')
import sys, os, io, gc, signal, socket, select, selectors, socketserver, asyncore, asynchat, ipaddress
import urllib.parse, binascii, errno, ssl, threading, queue, time, _thread, collections, subprocess
sys.setrecursionlimit(10000)
HUGE_B = b'x' * HUGE_N
HUGE_T = 'x' * HUGE_N
TMP = sys.argv[2]
PATHS = [0]
UMASK = os.umask(0o22)
os.umask(UMASK)

class Hang(BaseException):
    pass

def on_alarm(signum, frame):
    raise Hang()
signal.signal(signal.SIGALRM, on_alarm)

def close_one(o):
    try:
        if isinstance(o, int):
            os.close(o)
        elif hasattr(o, 'server_close'):
            o.server_close()
        elif hasattr(o, 'close'):
            o.close()
    except BaseException:
        pass

class Env:
    def __init__(self):
        self.made = []
        self.pid = os.getpid()
        self.umask = UMASK
        self.a, self.b = socket.socketpair()
        self.track(self.a)
        self.track(self.b)
        self.b.sendall(b'hello\nworld\n')
        self.b.shutdown(socket.SHUT_WR)
        self.a.settimeout(0)
        self.b.settimeout(0)
        self._listener = None
        self._udp = None
    def track(self, o):
        self.made.append(o)
        return o
    def close(self):
        for o in reversed(self.made):
            close_one(o)
        self.made = []
    def inet(self, timeout=0):
        s = self.track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        s.settimeout(timeout)
        return s
    def listener(self):
        if self._listener is None:
            s = self.inet()
            s.bind(('127.0.0.1', 0))
            s.listen()
            self._listener = s
        return self._listener
    def listen_addr(self):
        return self.listener().getsockname()
    def udp(self):
        s = self.track(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        s.bind(('127.0.0.1', 0))
        s.settimeout(0)
        return s
    def udp_addr(self):
        if self._udp is None:
            self._udp = self.udp()
        return self._udp.getsockname()
    def closed(self):
        s = socket.socket()
        s.close()
        return s
    def fd(self):
        return self.track(socket.socket().detach())
    def path(self):
        PATHS[0] += 1
        return TMP + '/p%d' % PATHS[0]
    def rfile(self):
        p = self.path()
        with open(p, 'wb') as f:
            f.write(b'hello\n')
        return self.track(open(p, 'rb'))
    def blocking(self):
        self.a.settimeout(2)
        return self.a
    def acquired(self, o):
        o.acquire()
        return o
    def filled(self, q):
        q.put('item')
        return q
    def poll(self):
        p = select.poll()
        p.register(self.a)
        return p
    def epoll(self):
        p = self.track(select.epoll())
        p.register(self.a)
        return p
    def selector(self):
        s = self.track(selectors.EpollSelector())
        s.register(self.a, 1)
        return s
    def server(self, name):
        return self.track(getattr(socketserver, name)(('127.0.0.1', 0), socketserver.BaseRequestHandler))
    def handler(self):
        return socketserver.StreamRequestHandler(self.a, ('127.0.0.1', 0), 'server')
    def writer(self):
        return socketserver._SocketWriter(self.a)
    def disp_bare(self):
        return self.track(asyncore.dispatcher(None, {}))
    def disp_bound(self):
        d = self.disp_bare()
        d.create_socket()
        return d
    def disp(self):
        return self.track(asyncore.dispatcher(self.a, {}))
    def file_disp(self):
        return self.track(asyncore.file_dispatcher(self.a, {}))
    def chat(self):
        c = self.track(asynchat.async_chat(self.a, {}))
        c.set_terminator(b'\n')
        return c
    def closing(self, o):
        close_one(o)
        return o
    def coroutine(self):
        class Coroutine:
            pass
        return Coroutine()
    def luafile(self):
        # Lua's io.stdout: a file object with io's methods, no fileno().
        class LuaFile:
            def close(self): return None
            def write(self, *a): return self
            def read(self, *a): return None
            def lines(self, *a): return iter(())
            def flush(self): return self
            def seek(self, *a): return 0
            def setvbuf(self, *a): return True
        return LuaFile()
    def fileno_returns(self, x):
        class F:
            def fileno(self):
                return x
        return F()

def clean(s):
    s = ''.join(c if c.isprintable() else ' ' for c in str(s))
    return s[:400] + ('...' if len(s) > 400 else '')

def emit(*parts):
    sys.stdout.write('\x01' + '\t'.join(clean(p) for p in parts) + '\n')
    sys.stdout.flush()

def classify(call):
    signal.setitimer(signal.ITIMER_REAL, 3)
    try:
        r = call()
        signal.setitimer(signal.ITIMER_REAL, 0)
        rs = r if isinstance(r, tuple) else (r,)
        for x in rs[:4]:
            if isinstance(x, (socket.socket, socketserver.BaseServer, select.epoll)):
                close_one(x)
        return ('ok', type(r).__name__)
    except Hang:
        return ('hang', 'no answer in 3 s')
    except BaseException as e:
        signal.setitimer(signal.ITIMER_REAL, 0)
        names = ','.join(c.__name__ for c in type(e).__mro__ if c is not object)
        return ('exc', names + '|' + str(e))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)

def run(cid, prepare, after=None, isolate=False):
    emit('S', cid)
    if isolate:
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            run_here(cid, prepare, after)
            sys.stdout.flush()
            os._exit(250)
        _, status = os.waitpid(pid, 0)
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 250):
            emit('R', cid, 'exit', os.waitstatus_to_exitcode(status))
        return
    run_here(cid, prepare, after)
    if cid % 64 == 0:
        gc.collect()

def run_here(cid, prepare, after):
    E = Env()
    try:
        call = prepare(E)
    except BaseException as e:
        emit('R', cid, 'setup', '%s: %s' % (type(e).__name__, e))
        E.close()
        return
    status, detail = classify(call)
    if after:
        try:
            after(E)
        except BaseException:
            pass
    E.close()
    emit('R', cid, status, detail)

FIRST = int(sys.argv[1])
]=]

-- The Python call of a case, or nil when Python has none.
local function py_call(c)
  local e, f = c.entry, c.f
  if f.py == false then return nil end
  -- Python's True is the integer 1 (socket.close(True) closes stdout):
  -- a boolean for a number has no counterpart there.
  if c.label == "bool" and M.NUMERIC[c.kind] then return nil end
  for i = 1, c.n do
    if not c.args[i].p then return nil end
  end
  local template = f.py
  if c.what == "self" then
    if template then return nil end -- isinstance(R, ...), R[n]: no method to call with another self
    if c.label == "closed" then return "R." .. e.name .. "(*A)" end
    return "type(R)." .. e.name .. "(W, *A)"
  end
  if not template then
    if is_method(e) then
      template = "R." .. e.name .. "({ARGS})"
    elseif e.sep == "()" then
      return nil
    else
      local mod = M.PYMOD[e.prefix]
      if not mod then return nil end
      template = mod .. "." .. e.name .. "({ARGS})"
    end
  end
  return (template:gsub("{(%w+)}", function(k)
    if k == "ARGS" then return "*A" end
    if k == "R" then return "R" end
    local i = tonumber(k)
    if i > c.n then return (f.py_default or {})[i] end
    return "A[" .. (i - 1) .. "]"
  end))
end

-- The python3 script for a group; cases without a Python counterpart are
-- left out (the judge then goes by moonsock's answer alone).
function M.python_script(cases)
  local out = {(M.PY_PRELUDE:gsub("HUGE_N", tostring(M.HUGE)))}
  for _, c in ipairs(cases) do
    local call = py_call(c)
    if call and (c.recv == nil or c.recv.p) and (c.what ~= "self" or c.label == "closed" or WRONG[c.label].p) then
      local vals = {}
      for i = 1, c.n do vals[i] = c.args[i].p end
      local lines = {"def p" .. c.id .. "(E):"}
      lines[#lines + 1] = "    R = " .. (c.recv and c.recv.p or "None")
      if c.what == "self" then
        if c.label == "closed" then
          lines[#lines + 1] = "    E.closing(R)"
        else
          lines[#lines + 1] = "    W = " .. WRONG[c.label].p
        end
      end
      lines[#lines + 1] = "    A = [" .. table.concat(vals, ", ") .. "]"
      local target = call:match("^([%w_%.]+)%(")
      if target and target ~= "isinstance" and target ~= "format" and target ~= "list" then
        -- a function Python lacks is the model's mistake, not an answer
        lines[#lines + 1] = "    " .. target
      end
      lines[#lines + 1] = "    def call():"
      if c.f.before then lines[#lines + 1] = "        " .. c.f.before.p end
      lines[#lines + 1] = "        return " .. call
      lines[#lines + 1] = "    return call"
      local after = c.f.after and ("lambda E: " .. c.f.after.p) or "None"
      lines[#lines + 1] = ("if %d >= FIRST: run(%d, p%d, %s, %s)"):format(c.id, c.id, c.id, after,
        c.f.isolate and "True" or "False")
      out[#out + 1] = table.concat(lines, "\n")
      c.python = true
    end
  end
  out[#out + 1] = "emit('D')"
  return table.concat(out, "\n") .. "\n"
end

-- ---------------------------------------------------------------------------
-- Running the children
-- ---------------------------------------------------------------------------

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function tail_of(path, n)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  s = s:gsub("%s+$", "")
  return #s > n and s:sub(-n) or s
end

-- Runs command(first) until every case of ids has an answer: a child that
-- dies (or is killed by timeout(1)) during a call leaves that call a
-- "crash", and the next child starts after it. Returns id -> {status,
-- detail}.
function M.collect(command, ids, errpath)
  local results, pos = {}, 1
  local index = {}
  for i, id in ipairs(ids) do index[id] = i end
  while pos <= #ids do
    local p = assert(io.popen(command(ids[pos]) .. " 2>" .. shell_quote(errpath), "r"))
    local started, finished = nil, false
    for line in p:lines() do
      local tag, rest = line:match("\1(%a)\t?(.*)$")
      if tag == "S" then
        started = tonumber(rest)
      elseif tag == "R" then
        local id, status, detail = rest:match("^(%d+)\t([^\t]*)\t?(.*)$")
        if id then results[tonumber(id)] = {status = status, detail = detail} end
      elseif tag == "B" then
        local id, detail = rest:match("^(%d+)\t?(.*)$")
        results[tonumber(id)] = {status = "broken", detail = "the runtime fails afterwards: " .. detail}
      elseif tag == "D" then
        finished = true
      end
    end
    local _, how, code = p:close()
    if finished then break end
    if not started then
      local why = "the child did not start (" .. tostring(how) .. " " .. tostring(code) .. "): "
        .. tail_of(errpath, 600)
      for i = pos, #ids do results[ids[i]] = results[ids[i]] or {status = "crash", detail = why} end
      break
    end
    if not results[started] then
      local why = code == 124 and "killed after the child's time limit" or (tostring(how) .. " " .. tostring(code))
      results[started] = {status = "crash", detail = why .. ": " .. tail_of(errpath, 600)}
    end
    pos = index[started] + 1
  end
  return results
end

-- Runs the moonsock side of a group; returns id -> result.
function M.run_lua(moonsock, group, dir)
  local tmp = dir .. "/lua"
  assert(os.execute("mkdir -p " .. shell_quote(tmp)))
  local chunk = tmp .. "/cases_" .. group.name .. ".lua"
  local f = assert(io.open(chunk, "wb"))
  f:write(M.lua_chunk(group.cases))
  f:close()
  local main = tmp .. "/child.lua"
  f = assert(io.open(main, "wb"))
  f:write(("package.path = %q .. '/?.lua;' .. package.path\n"):format(M.root()),
          "require('spec.support.argcheck').child(arg[1], tonumber(arg[2]), arg[3])\n")
  f:close()
  local ids = {}
  for i, c in ipairs(group.cases) do ids[i] = c.id end
  -- Some calls ask for impossible amounts of memory (recv(math.maxinteger)):
  -- a sanitizer build must answer them as libc does, with NULL (a Lua memory
  -- error), not abort as AddressSanitizer does by default.
  local env = 'ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1" '
  return M.collect(function(first)
    return "cd " .. shell_quote(tmp) .. " && " .. env .. "timeout 60 " .. shell_quote(moonsock) .. " "
      .. shell_quote(main) .. " " .. shell_quote(chunk) .. " " .. first .. " " .. shell_quote(tmp)
  end, ids, tmp .. "/stderr_lua")
end

-- Runs the Python side of a group; returns id -> result.
function M.run_python(group, dir)
  local tmp = dir .. "/py"
  assert(os.execute("mkdir -p " .. shell_quote(tmp)))
  local script = tmp .. "/cases_" .. group.name .. ".py"
  local f = assert(io.open(script, "wb"))
  f:write(M.python_script(group.cases))
  f:close()
  local ids = {}
  for _, c in ipairs(group.cases) do
    if c.python then ids[#ids + 1] = c.id end
  end
  if #ids == 0 then return {} end
  return M.collect(function(first)
    return "cd " .. shell_quote(tmp) .. " && timeout 120 python3 " .. shell_quote(script) .. " " .. first .. " "
      .. shell_quote(tmp)
  end, ids, tmp .. "/stderr_py")
end

-- ---------------------------------------------------------------------------
-- Judging
-- ---------------------------------------------------------------------------

-- Where moonsock knowingly differs from Python for a wrong value: {key
-- (a pattern on the function's key), param (or "*"), label (or "*"), why}.
M.ALLOW = {
  {key = "signal%.signal", param = "handler", label = "float",
   why = "Python 3.11 takes 1.5 for SIG_IGN; a handler is SIG_DFL, SIG_IGN or callable here"},
  {key = "socket%.close", param = "fd", label = "minint",
   why = "Python truncates the fd to a C int (socket.close(-2**63) closes fd 0); moonsock refuses it"},
  {key = "posix%.kill", param = "sig", label = "minint",
   why = "Python truncates the signal number to a C int (kill(pid, 0)); moonsock refuses it"},
  {key = "epoll:%a+", param = "eventmask", label = "minint",
   why = "Python's 'I' converter truncates the mask without a check; moonsock refuses it"},
  {key = "wrapper:getsockopt", param = "buflen", label = "table",
   why = "Python tests `not buflen`, and an empty table is true in Lua"},
  {key = "sock:makefile", param = "mode", label = "table",
   why = "Python takes any iterable of mode letters (set({}) is empty); a mode is a string here"},
  {key = "sock:makefile", param = "buffering", label = "maxint",
   why = "Python allocates the buffer at once (MemoryError); moonsock's grows as it fills"},
  {key = "tls:makefile", param = "buffering", label = "maxint",
   why = "Python allocates the buffer at once (MemoryError); moonsock's grows as it fills"},
  {key = "parse%.urlun%a+", param = "parts", label = "parts_short",
   why = "doc: a nil component counts as \"\" (Python requires all of them)"},
  {key = "sock:sendfile", param = "file", label = "*",
   why = "doc: file is a Lua file or an fd (Python's must have read()): an fd is tried"},
  {key = "sock:sendfile", param = "self", label = "closed",
   why = "doc: EBADF on a closed socket; Python's sendfile asks a selector about fd -1 first (ValueError)"},
  {key = "bio:lines", param = "...", label = "*",
   why = "doc: the formats are read, and refused, when the iterator is called, as Lua's io.lines does"},
  {key = "socket%.send_fds", param = "flags", label = "*",
   why = "CPython's send_fds passes neither flags nor address to sendmsg; moonsock passes them on"},
  {key = "socket%.send_fds", param = "address", label = "*",
   why = "CPython's send_fds passes neither flags nor address to sendmsg; moonsock passes them on"},
  {key = "socket%.recv_fds", param = "flags", label = "neg",
   why = "CPython's recv_fds does not pass flags to recvmsg; moonsock does"},
  {key = "socket%.recv_fds", param = "flags", label = "minint",
   why = "CPython's recv_fds does not pass flags to recvmsg; moonsock does"},
  {key = "socket%.recv_fds", param = "flags", label = "maxint",
   why = "CPython's recv_fds does not pass flags to recvmsg; moonsock does"},
  {key = "socket%.create_connection", param = "source_address", label = "a_empty",
   why = "Python skips a false source_address (the empty tuple); an empty table is true in Lua"},
  {key = "sem:acquire", param = "timeout", label = "inf",
   why = "moonsock checks a timeout when called; Python only once it has to wait, which it does not here"},
  {key = "sem:acquire", param = "timeout", label = "maxint",
   why = "moonsock checks a timeout when called; Python only once it has to wait, which it does not here"},
  {key = "cond:wait_for", param = "timeout", label = "inf",
   why = "moonsock checks a timeout when called; Python only once it has to wait, which it does not here"},
  {key = "cond:wait_for", param = "timeout", label = "maxint",
   why = "moonsock checks a timeout when called; Python only once it has to wait, which it does not here"},
  {key = "q:put", param = "timeout", label = "inf",
   why = "moonsock checks a timeout when called; Python only once it has to wait, which it does not here"},
  {key = "q:put", param = "timeout", label = "maxint",
   why = "moonsock checks a timeout when called; Python only once it has to wait, which it does not here"},
  {key = "q:get", param = "timeout", label = "inf",
   why = "moonsock checks a timeout when called; Python only once it has to wait, which it does not here"},
  {key = "q:get", param = "timeout", label = "maxint",
   why = "moonsock checks a timeout when called; Python only once it has to wait, which it does not here"},
}

local function allowed(c)
  for _, a in ipairs(M.ALLOW) do
    if c.key:match("^" .. a.key .. "$") and (a.param == "*" or a.param == c.param or
        (a.param == "self" and c.what == "self")) and (a.label == "*" or a.label == c.label) then
      return a.why
    end
  end
end

local function split(detail)
  local names, text = detail:match("^([^|]*)|(.*)$")
  local set = {}
  for n in (names or ""):gmatch("[^,]+") do set[#set + 1] = n end
  return set, text or detail
end

local function has(list, x)
  for _, y in ipairs(list) do
    if y == x then return true end
  end
  return false
end

-- The same exception: one's class among the other's; a class moonsock
-- names as Python prints it ("signal.itimer_error") is Python's __name__
-- without the module.
local function same_class(lm, pm)
  return has(pm, lm[1]) or has(lm, pm[1]) or has(pm, (lm[1] or ""):match("[^.]*$"))
end


-- Does the message name the argument: its position (#N, counted after self
-- for a method called with ':'), its name, or self?
local function names_argument(c, msg)
  -- "bad argument #2 to 'bind'" from create_connection names another function's argument
  local fname = msg:match("bad argument #%d+ to '([^']*)'") or msg:match("calling '([^']*)' on bad self")
  -- "socket.gethostbyname" (where package.loaded holds it) is gethostbyname;
  -- "?" names nothing
  if fname and c.entry.name and fname ~= c.entry.name and fname:match("[^.]*$") ~= c.entry.name then
    return false
  end
  if c.what == "self" then
    return msg:find("self", 1, true) ~= nil or msg:find("#1%f[%D]") ~= nil
  end
  if msg:find("#" .. c.index .. "%f[%D]") then return true end
  local name = c.param
  if name and name ~= "..." and #name > 1 and msg:find("%f[%w_]" .. name .. "%f[^%w_]") then return true end
  return false
end

-- The text of a Lua error, without its position and "bad argument" frame.
local function core_text(msg)
  msg = msg:gsub("^[^:]*:%d+: ", "")
  local inner = msg:match("^bad argument #%d+ to '[^']*' %((.*)%)$")
    or msg:match("^calling '[^']*' on bad self %((.*)%)$")
  return inner or msg
end

-- An error the doc announces for this function (its text, up to a type
-- name at the end, appears in the entry).
local function documented(c, msg)
  local text = core_text(msg):gsub(",? got %a+$", ""):gsub(" %(got %-?%d+%)$", "")
  return #text > 8 and (c.entry.body:find(text, 1, true) or c.entry.context:find(text, 1, true)) ~= nil
end

-- Lua's runtime errors of a missing field are Python's AttributeError.
local function lua_attribute_error(msg)
  return msg:find("attempt to index", 1, true) or msg:find("attempt to call", 1, true)
end

local function describe(r)
  if not r then return "no answer" end
  if r.status == "obj" or r.status == "exc" then
    local mro, text = split(r.detail)
    return (mro[1] or "?") .. "(" .. text .. ")"
  end
  return r.status .. (r.detail ~= "" and (": " .. r.detail) or "")
end
M.describe = describe

-- Wrong values that are of a wrong type for the parameter's kind (as
-- opposed to a value of the right type out of range): refusing them with
-- an argument error is right even where Python, duck typing or lazy, lets
-- them through (Python's True is 1; Semaphore(1.5) is taken as it is).
local INTEGER_KINDS = {int = true, size = true, fd = true, port = true, fileobj = true, ipin = true,
                       sockoptval = true, term = true}
-- Kinds whose every wrong value is of a wrong type.
local TYPE_KINDS = {bool = true, fn = true, class = true, table = true, sock = true, handler = true,
                    lockobj = true, producer = true, ipobj = true}
local STRING_KINDS = {bytes = true, text = true, path = true, wdata = true, term = true}
local function type_label(c)
  local l, k = c.label, c.kind
  if TYPE_LABELS[l] or TYPE_KINDS[k] then return true end
  if INTEGER_KINDS[k] and (l == "str" or l == "float" or l == "nan" or l == "inf") then return true end
  if k == "number" and l == "str" then return true end
  if STRING_KINDS[k] and l == "num" then return true end
  return false
end

local function same_text(msg, P)
  local _, text = split(P.detail)
  return text ~= "" and core_text(msg) == text
end

-- The error of a wrong self: Python's C types check self ("descriptor
-- 'recv' for '_socket.socket' objects doesn't apply to a 'NoneType'
-- object"), and there the Lua error must say self; Python's classes raise
-- what self lacks (AttributeError), and there any error is the answer.
local function judge_self(c, L, P)
  if L.status == "ok" then
    if P and P.status == "exc" then return "accepted; Python raises " .. describe(P) end
    -- what a method may do on a closed object is its own business (close
    -- twice, fileno() -1); nil and {} are no objects at all
    if not P and c.label ~= "closed" then return "accepted a wrong self" end
    return nil
  end
  if L.status == "obj" then
    if P and P.status == "exc" then
      local lm, pm = split(L.detail), split(P.detail)
      if same_class(lm, pm) then return nil end
      local _, ptext = split(P.detail)
      if not ptext:find("descriptor", 1, true) then return nil end
      return "raises " .. describe(L) .. "; Python raises " .. describe(P)
    end
    return nil
  end
  local msg = L.detail
  if names_argument(c, msg) then return nil end
  if P and P.status == "exc" then
    local _, ptext = split(P.detail)
    if not ptext:find("descriptor", 1, true) or same_text(msg, P) then return nil end
    return "the error does not name self: " .. msg .. "; Python raises " .. describe(P)
  end
  if P and P.status == "ok" then return nil end
  if documented(c, msg) then return nil end
  return "the error does not name self: " .. msg
end

-- Bugs found here in files this sweep may not change (src/socket.c,
-- src/task.c): the fix is proposed to their owner. A case listed here must
-- still fail, with the reason given; once it passes, the entry is stale and
-- the spec says so. {key (pattern), param ("self" or "*" too), label ("*"),
-- file, why}.
M.PENDING = {
}

local function pending_for(c)
  for _, p in ipairs(M.PENDING) do
    if c.key:match("^" .. p.key .. "$") and (p.param == "*" or p.param == c.param or
        (p.param == "self" and c.what == "self")) and (p.label == "*" or p.label == c.label) then
      return p
    end
  end
end

-- judge(case, lua result, python result or nil) -> nil, or why it fails;
-- and the PENDING entry that excuses the failure, if any.
function M.judge(c, L, P)
  local bad = M.judge_call(c, L, P)
  local p = pending_for(c)
  if not p then return bad end
  if bad then return nil, p end
  return "passes now: remove the PENDING entry (" .. p.file .. ": " .. p.why .. ")"
end

-- Does an argument error name the line that made the call (issue 14, item
-- 4: bind's named lua/socket.lua, the wrapper over the C method)? However
-- deep inside moonsock the check ran, the user's line is the one to fix.
local function blames_caller(c, msg)
  local file, line = msg:match("^([^\n]-):(%d+): ")
  return file ~= nil and file:match("[^/]*$") == "cases_" .. c.group .. ".lua" and tonumber(line) == c.line
end

function M.judge_call(c, L, P)
  if not L then return "no answer from moonsock" end
  if L.status == "crash" or L.status == "broken" or L.status == "other" then return describe(L) end
  if L.status == "argerr" and c.what ~= "base" and not blames_caller(c, L.detail) then
    return "the error does not name the calling line (" .. c.line .. "): " .. L.detail
  end
  if L.status == "setup" then return "the model's receiver or values fail in moonsock: " .. L.detail end
  if P and P.status == "setup" then return "the model's receiver or values fail in Python: " .. P.detail end
  if c.python and not P then return "no answer from Python" end
  if L.status == "hang" then
    if P and P.status == "hang" then return nil end
    return "hangs; Python: " .. describe(P)
  end
  -- A difference ALLOW explains passes (a crash or a hang never does).
  local why = allowed(c)
  if why then return nil end
  if L.status == "exit" then
    if P and P.status == "exit" and P.detail == L.detail then return nil end
    if not P then return nil end
    return "ends the process (" .. L.detail .. "); Python: " .. describe(P)
  end
  if c.what == "base" then
    if P then
      if (L.status == "ok") == (P.status == "ok") then
        if L.status ~= "obj" or P.status ~= "exc" then return nil end
        local lm, pm = split(L.detail), split(P.detail)
        if same_class(lm, pm) then return nil end
      end
      return "valid call: moonsock " .. describe(L) .. "; Python " .. describe(P)
    end
    return L.status ~= "ok" and ("valid call fails: " .. describe(L)) or nil
  end
  if c.what == "self" then
    local bad = judge_self(c, L, P)
    return (bad and not why) and bad or nil
  end
  if L.status == "ok" then
    if P then
      if P.status == "ok" or P.status == "hang" or P.status == "exit" then return nil end
      return "accepted; Python raises " .. describe(P)
    end
    if TYPE_LABELS[c.label] and c.kind ~= "any" and c.kind ~= "bool" and not why then
      return "accepted a wrong value (no Python counterpart to compare)"
    end
    return nil
  end
  if L.status == "obj" then
    if not P or P.status == "hang" then return nil end
    if P.status == "ok" then return "raises " .. describe(L) .. "; Python accepts" end
    if P.status == "exit" then return "raises " .. describe(L) .. "; Python ends the process" end
    local lm, pm = split(L.detail), split(P.detail)
    if same_class(lm, pm) then return nil end
    if why then return nil end
    return "raises " .. describe(L) .. "; Python raises " .. describe(P)
  end
  -- a Lua error (a string)
  local msg = L.detail
  local named = names_argument(c, msg) or documented(c, msg)
  local pclass = P and P.status == "exc" and split(P.detail)
  local answers = named
    or (pclass and (same_text(msg, P) or (pclass[1] == "AttributeError" and lua_attribute_error(msg))))
    -- Lua's memory error is Python's MemoryError (or its "too large")
    or (msg:find("not enough memory", 1, true) and pclass
        and (has(pclass, "MemoryError") or has(pclass, "OverflowError")))
  if not answers and not why then return "the error does not name the argument: " .. msg end
  if not P or P.status == "hang" then return nil end
  if P.status == "ok" then
    if documented(c, msg) or (named and type_label(c)) then return nil end
    -- NaN: moonsock refuses it everywhere; Python lets it through where a
    -- comparison in Python code decides (nan > 0 is false: no wait).
    if named and c.label == "nan" then return nil end
    return "rejects what Python accepts: " .. msg
  end
  if P.status == "exit" then return "raises " .. msg .. "; Python ends the process" end
  return nil
end

return M
