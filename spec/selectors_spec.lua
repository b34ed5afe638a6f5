-- The selectors module against CPython 3's selectors: the same steps run on
-- every selector class in python3 and here, and print the same lines.
local selectors = require "selectors"
local select = require "select"
local socket = require "socket"
local task = require "task"
local errors = require "moonsock.errors"
local reprmod = require "moonsock.repr"
local h = require "spec.support.helpers"

local READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
local CLASSES = {"SelectSelector", "PollSelector", "EpollSelector"}

local function errof(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return err
end

-- The fds this process has open, as the kernel lists them.
local open_fds = h.fd_table

-- ---- the differential run ----

-- Steps: {op, args...}. Arguments are object names, numbers, None, 'text'
-- literals or T (a tuple, the data whose identity must survive).
local STEPS = {
  {"register", "fa", 1, "'x'"},
  {"register", "ia", 2},
  {"register", "fc", 3, "T"},
  {"register", "b", 0},
  {"register", "b", 4},
  {"register", "b", "None"},
  {"register", "g", 1},
  {"register", "neg", 1},
  {"register", "'x'", 1},
  {"register", "ib", 1},
  {"map"},
  {"select", 0},
  {"send", "b"},
  {"select", 0},
  {"select", -1},
  {"modify", "fa", 3, "'y'"},
  {"modify", "fa", 3, "'z'"},
  {"same", "fa", 3, "'z'"},
  {"modify", "ia", 1},
  {"map"},
  {"get_key", "fa"},
  {"get_key", "ia"},
  {"get_key", 99},
  {"get_key", "g"},
  {"get_key", "neg"},
  {"unregister", "d"},
  {"modify", "d", 1},
  {"data_is_T", "fc"},
  {"close_obj", "d"},
  {"select", 0.01},
  {"unregister", "fc"},
  {"unregister", "fc"},
  {"register", "closed", 1},
  {"register", "e", 3},
  {"close_obj", "e"},
  {"unregister", "e"},
  {"select", 0},
  {"map"},
  {"close"},
  {"getmap"},
  {"get_key", "fa"},
  {"select", 0},
  {"register", "f", 1},
}

local PY = [[
import os, re, selectors, socket, sys
dummies = [os.open('/dev/null', os.O_RDONLY) for _ in range(20)]
class F:
    def __init__(self, name, fd): self.name = name; self.fd = fd
    def fileno(self): return self.fd
    def __repr__(self): return 'F(%s)' % self.name
class G:
    def __repr__(self): return 'G()'
T = (1, 2)
def objects():
    a, b = socket.socketpair(); c, d = socket.socketpair(); e, f = socket.socketpair()
    x, y = socket.socketpair(); x.close()
    return {'a': a, 'b': b, 'c': c, 'd': d, 'e': e, 'f': f, 'closed': x,
            'fa': F('fa', a.fileno()), 'fc': F('fc', c.fileno()), 'ia': a.fileno(), 'ib': b.fileno(),
            'g': G(), 'neg': F('neg', -1)}
def norm(text):
    for n, o in O.items():
        if not isinstance(o, int): text = text.replace(repr(o), '<%s>' % n)
    return re.sub(r'\b\d+\b', lambda m: FDN.get(int(m.group(0)), m.group(0)), text)
def show(v):
    if isinstance(v, selectors.SelectorKey): return 'key ' + norm(repr(v))
    if isinstance(v, list):
        items = ['(%s, %d)' % (norm(repr(k)), ev) for k, ev in v]
        if not ORDERED: items.sort()
        return 'ready [' + ', '.join(items) + ']'
    return norm(repr(v))
def step(title, fn):
    try:
        print(title, '->', show(fn()))
    except Exception as e:
        print(title, '->', type(e).__name__, norm(repr(e.args)))
for cls in ('SelectSelector', 'PollSelector', 'EpollSelector'):
    O = objects()
    FDN = {o.fileno(): '<fd:%s>' % n for n, o in O.items() if isinstance(o, socket.socket) and n != 'closed'}
    ORDERED = cls == 'PollSelector'
    sel = getattr(selectors, cls)()
    print(cls)
    if hasattr(sel, 'fileno'): print('fileno', sel.fileno() == sel._selector.fileno())
]]

local function py_arg(a)
  if type(a) == "number" then return tostring(a) end
  if a == "None" or a == "T" or a:sub(1, 1) == "'" then return a end
  return "O['" .. a .. "']"
end

local function py_step(s)
  local op = s[1]
  local args = {}
  for i = 2, #s do args[#args + 1] = py_arg(s[i]) end
  local title = table.concat(s, " ")
  local call
  if op == "map" then
    call = "(lambda m: '%d %s' % (len(m), ' '.join(FDN.get(fd, str(fd)) for fd in m)))(sel.get_map())"
  elseif op == "getmap" then
    call = "sel.get_map()"
  elseif op == "send" then
    call = args[1] .. ".send(b'x')"
  elseif op == "close_obj" then
    call = args[1] .. ".close()"
  elseif op == "same" then
    call = string.format("(lambda k: k is sel.modify(%s))(sel.get_key(%s))", table.concat(args, ", "), args[1])
  elseif op == "data_is_T" then
    call = "sel.get_key(" .. args[1] .. ").data is T"
  else
    call = "sel." .. op .. "(" .. table.concat(args, ", ") .. ")"
  end
  return string.format("    step(%q, lambda: %s)", title, call)
end

local function python_lines()
  local code = {PY}
  for _, s in ipairs(STEPS) do code[#code + 1] = py_step(s) end
  return h.python(table.concat(code, "\n") .. "\n")
end

local function F(name, fd)
  return setmetatable({fd = fd}, {
    __index = {fileno = function(self) return self.fd end},
    __tostring = function() return "F(" .. name .. ")" end,
  })
end

local function lua_lines()
  -- fds from 20 up, as in the Python run, so that no fd reads as an event mask.
  local dummies = {}
  repeat
    local s = socket.socket()
    dummies[#dummies + 1] = s
  until s:fileno() >= 20
  local T = reprmod.tuple(1, 2)
  local out = {}
  local O, FDN, ORDERED, sel
  -- In the order of the Python dict: closed sockets all print alike.
  local NAMES = {"a", "b", "c", "d", "e", "f", "closed", "fa", "fc", "ia", "ib", "g", "neg"}
  local function norm(text)
    for _, n in ipairs(NAMES) do
      local o = O[n]
      if math.type(o) ~= "integer" then
        local r = reprmod.repr(o)
        text = text:gsub(r:gsub("%p", "%%%0"), "<" .. n .. ">")
      end
    end
    return (text:gsub("%f[%w]%d+%f[%W]", function(d) return FDN[tonumber(d)] or d end))
  end
  local function show(v)
    if getmetatable(v) == getmetatable(selectors.SelectorKey(1, 1, 1)) then
      return "key " .. norm(tostring(v))
    end
    if getmetatable(v) == reprmod.list_mt and (#v == 0 or getmetatable(v[1]) == reprmod.tuple_mt) then
      local items = {}
      for i, pair in ipairs(v) do items[i] = string.format("(%s, %d)", norm(tostring(pair[1])), pair[2]) end
      if not ORDERED then table.sort(items) end
      return "ready [" .. table.concat(items, ", ") .. "]"
    end
    return norm(reprmod.repr(v))
  end
  local function arg(a)
    if type(a) == "number" then return a end
    if a == "None" then return nil end
    if a == "T" then return T end
    if a:sub(1, 1) == "'" then return a:sub(2, -2) end
    return O[a]
  end
  local function run(s)
    local op = s[1]
    local a1, a2, a3 = arg(s[2] or "None"), arg(s[3] or "None"), arg(s[4] or "None")
    if op == "map" then
      local m = sel:get_map()
      local names = {}
      for fd in pairs(m) do names[#names + 1] = FDN[fd] or tostring(fd) end
      return string.format("%d %s", #m, table.concat(names, " "))
    elseif op == "getmap" then
      return sel:get_map()
    elseif op == "send" then
      return a1:send("x")
    elseif op == "close_obj" then
      return a1:close()
    elseif op == "same" then
      return rawequal(sel:get_key(a1), sel:modify(a1, a2, a3))
    elseif op == "data_is_T" then
      return rawequal(sel:get_key(a1).data, T)
    elseif op == "select" then
      return sel:select(a1)
    end
    return sel[op](sel, a1, a2, a3)
  end
  for _, cls in ipairs(CLASSES) do
    local a, b = socket.socketpair()
    local c, d = socket.socketpair()
    local e, f = socket.socketpair()
    local x = socket.socketpair()
    x:close()
    O = {a = a, b = b, c = c, d = d, e = e, f = f, closed = x, fa = F("fa", a:fileno()),
         fc = F("fc", c:fileno()), ia = a:fileno(), ib = b:fileno(),
         g = setmetatable({}, {__tostring = function() return "G()" end}), neg = F("neg", -1)}
    FDN = {}
    for n, o in pairs(O) do
      if type(o) == "userdata" and n ~= "closed" then FDN[o:fileno()] = "<fd:" .. n .. ">" end
    end
    ORDERED = cls == "PollSelector"
    sel = selectors[cls]()
    out[#out + 1] = cls
    if sel.fileno then out[#out + 1] = "fileno " .. (sel:fileno() == sel._selector:fileno() and "True" or "False") end
    for _, s in ipairs(STEPS) do
      local title = {}
      for i, v in ipairs(s) do title[i] = tostring(v) end
      local ok, res = pcall(run, s)
      if ok then
        out[#out + 1] = table.concat(title, " ") .. " -> " .. show(res)
      else
        local args = res.args and reprmod.tuple(table.unpack(res.args, 1, res.args.n)) or reprmod.tuple(res)
        out[#out + 1] = table.concat(title, " ") .. " -> " .. (getmetatable(res) or {}).__name .. " "
          .. norm(tostring(args))
      end
    end
    for _, s in ipairs {a, b, c, d, e, f} do s:close() end
  end
  for _, s in ipairs(dummies) do s:close() end
  return table.concat(out, "\n") .. "\n"
end

describe("selectors", function()
  it("every class answers the same steps as CPython's selectors do", function()
    assert.are.equal(python_lines(), lua_lines())
  end)

  it("has Python's EVENT_READ and EVENT_WRITE, and DefaultSelector is EpollSelector", function()
    local py = h.python([[
import selectors
print(selectors.EVENT_READ, selectors.EVENT_WRITE, selectors.DefaultSelector.__name__)]])
    assert.are.equal(py, string.format("%d %d %s\n", READ, WRITE, selectors.DefaultSelector.__name))
    assert.are.equal(selectors.EpollSelector, selectors.DefaultSelector)
  end)

  it("SelectorKey prints like Python's namedtuple and has its fields", function()
    local py = h.python([[
import selectors
k = selectors.SelectorKey(5, 5, 1, None)
print(k); print(selectors.SelectorKey('f', 7, 3, 'data')); print(k.fileobj, k.fd, k.events, k.data, len(k))
print(selectors.SelectorKey._fields)]])
    local k = selectors.SelectorKey(5, 5, 1, nil)
    local got = table.concat({
      tostring(k), tostring(selectors.SelectorKey("f", 7, 3, "data")),
      string.format("%d %d %d %s %d", k.fileobj, k.fd, k.events, reprmod.repr(k.data), #k),
      tostring(selectors.SelectorKey._fields)}, "\n") .. "\n"
    assert.are.equal(py, got)
    assert.are.equal(k, selectors.SelectorKey(5, 5, 1, nil))
    assert.are_not.equal(k, selectors.SelectorKey(5, 5, 2, nil))
    assert.are.equal(5, k[1])
    assert.are.equal(1, k[3])
  end)

  it("BaseSelector is abstract, with Python's message", function()
    local py = h.python([[
import selectors
try:
    selectors.BaseSelector()
except TypeError as e:
    print(e)]])
    assert.are.equal(py, errof(selectors.BaseSelector):gsub("^.-:%d+: ", "") .. "\n")
  end)

  it("KeyError prints as Python's str(KeyError): the repr of its argument", function()
    local py = h.python([[
import selectors
s = selectors.SelectSelector(); s.register(5, 1)
for f in (lambda: s.unregister(6), lambda: s.register(5, 1)):
    try:
        f()
    except KeyError as e:
        print(e)]])
    local sel = selectors.SelectSelector()
    sel:register(5, READ)
    local e1, e2 = errof(sel.unregister, sel, 6), errof(sel.register, sel, 5, READ)
    assert.is_true(errors.KeyError:matches(e1) and errors.KeyError:matches(e2))
    assert.are.equal(py, tostring(e1) .. "\n" .. tostring(e2) .. "\n")
  end)

  for _, name in ipairs(CLASSES) do
    describe(name, function()
      local cls = selectors[name]

      it("select() with no timeout parks only its task until another task makes a socket ready", function()
        local a, b = socket.socketpair()
        local sel <close> = cls()
        local data = {}
        sel:register(a, READ, data)
        local ticks = 0
        local t = task.spawn(function()
          for _ = 1, 10 do
            ticks = ticks + 1
            task.sleep(0.01)
          end
          b:send("x")
        end)
        local ready = sel:select()
        assert.are.equal(10, ticks)
        assert.are.equal(1, #ready)
        assert.are.equal(a, ready[1][1].fileobj)
        assert.are.equal(data, ready[1][1].data) -- the very same object
        assert.are.equal(READ, ready[1][2])
        t:join(5)
        a:close()
        b:close()
      end)

      it("select(0) and select(-1) poll; select(t) waits at most t seconds", function()
        local a, b = socket.socketpair()
        local sel <close> = cls()
        sel:register(a, READ)
        for _, timeout in ipairs {0, -1} do
          local t0 = task.now()
          assert.are.equal(0, #sel:select(timeout))
          assert.is_true(task.now() - t0 < 0.05)
        end
        local t0 = task.now()
        assert.are.equal(0, #sel:select(0.15))
        local took = task.now() - t0
        assert.is_true(took >= 0.14 and took < 1, "took " .. took)
        a:close()
        b:close()
      end)

      it("reports only the events registered, and both for a peer that hung up", function()
        local py = h.python(string.format([[
import selectors, socket
a, b = socket.socketpair()
sel = selectors.%s()
sel.register(a, selectors.EVENT_READ)
print([ev for k, ev in sel.select(0)])
sel.modify(a, selectors.EVENT_READ | selectors.EVENT_WRITE)
print([ev for k, ev in sel.select(0)])
b.close()
print([ev for k, ev in sel.select(0)])]], name))
        local a, b = socket.socketpair()
        local sel <close> = cls()
        local lines = {}
        local function events()
          local evs = {}
          for i, pair in ipairs(sel:select(0)) do evs[i] = pair[2] end
          lines[#lines + 1] = tostring(reprmod.list(evs))
        end
        sel:register(a, READ)
        events()
        sel:modify(a, READ | WRITE)
        events()
        b:close()
        events()
        assert.are.equal(py, table.concat(lines, "\n") .. "\n")
        a:close()
      end)

      it("get_map() is keyed by file object and by fd, counts, iterates fds, and is nil once closed", function()
        local a, b = socket.socketpair()
        local sel = cls()
        local ka = sel:register(a, READ, "A")
        local kb = sel:register(b:fileno(), WRITE)
        local m = sel:get_map()
        assert.are.equal(2, #m)
        assert.are.equal(ka, m[a])
        assert.are.equal(ka, m[a:fileno()])
        assert.are.equal(kb, m[b:fileno()])
        assert.are.equal(kb, m[b]) -- b's fd was registered
        assert.is_nil(m[12345])
        assert.is_nil(m["not a file"])
        assert.is_nil(m[-1])
        local seen = {}
        for fd, key in pairs(m) do seen[#seen + 1] = {fd, key} end
        assert.are.same({{a:fileno(), ka}, {b:fileno(), kb}}, seen)
        assert.has_error(function() m[a] = 1 end)
        sel:close()
        assert.is_nil(sel:get_map())
        local err = errof(sel.get_key, sel, a)
        assert.is_true(errors.RuntimeError:matches(err))
        assert.are.equal("Selector is closed", tostring(err))
        a:close()
        b:close()
      end)

      it("unregisters a socket closed since it was registered, as Python does", function()
        local a, b = socket.socketpair()
        local sel <close> = cls()
        local key = sel:register(a, READ)
        a:close()
        assert.are.equal(key, sel:unregister(a))
        assert.are.equal(0, #sel:get_map())
        b:close()
      end)

      it("names a wrong events or timeout argument", function()
        local sel <close> = cls()
        assert.matches("bad argument #2 to 'register' %(integer expected, got string%)",
          errof(function() sel:register(0, "r") end))
        assert.matches("bad argument #1 to 'select' %(number expected, got string%)",
          errof(function() sel:select("soon") end))
      end)

      it("is closed by a <close> variable", function()
        local a, b = socket.socketpair()
        local closed
        do
          local sel <close> = cls()
          sel:register(a, READ)
          closed = sel
        end
        assert.is_nil(closed:get_map())
        a:close()
        b:close()
      end)
    end)
  end

  it("EpollSelector owns an epoll fd and close() closes it; the others have no fileno()", function()
    local py = h.python([[
import selectors
print([hasattr(getattr(selectors, c), 'fileno') for c in ('SelectSelector', 'PollSelector', 'EpollSelector')])]])
    local has = {}
    for i, name in ipairs(CLASSES) do has[i] = selectors[name].fileno ~= nil end
    assert.are.equal(py, tostring(reprmod.list(has)) .. "\n")
    local sel = selectors.EpollSelector()
    local fd = sel:fileno()
    assert.are.equal("anon_inode:[eventpoll]", open_fds()[fd])
    sel:close()
    assert.is_nil(open_fds()[fd])
    do
      local sel2 <close> = selectors.DefaultSelector()
      fd = sel2:fileno()
    end
    assert.is_nil(open_fds()[fd])
  end)

  it("selectors wait on select's objects: a selector can watch another's epoll fd", function()
    local a, b = socket.socketpair()
    local inner <close> = selectors.EpollSelector()
    inner:register(a, READ)
    local outer <close> = selectors.PollSelector()
    outer:register(inner, READ, "inner")
    local t = task.spawn(function()
      task.sleep(0.05)
      b:send("x")
    end)
    local ready = outer:select(5)
    assert.are.equal("inner", ready[1][1].data)
    assert.are.equal(a, inner:select(0)[1][1].fileobj)
    t:join(5)
    assert.is_not_nil(select.POLLIN)
    a:close()
    b:close()
  end)
end)
