-- The REPL's Lua half, shared by the moonsock command's prompt and by
-- repl.serve(path), which offers the same REPL inside a running program to
-- `moonsock --attach path`. The reading (line editing, the loop) is C's, in
-- src/cli/ (repl.c, attach.c, lineedit.c); here are the rules for what was
-- typed (lua.c's), the pretty printer, help() and dir(), completion
-- candidates, and the attach server.
--
-- From scripts: local repl = require "repl"; repl.pprint(v); repl.repr(v).
--
-- About 840 lines in five sections that one session uses together: the
-- printer, compiling what was typed, introspection (dir/help/completion),
-- output while a prompt shows, and repl.serve, which runs the first four
-- for an attached client. If repl.serve grows (TLS, authentication), it is
-- the part to move into a module of its own.
local core = require "moonsock.core.task"
local errors = require "moonsock.errors"
local pyrepr = require "moonsock.repr"

local M = {}

M.width = 80      -- columns the printer aims to fit
M.max_items = 100 -- entries shown per table before the rest is counted
M.max_depth = 12  -- nesting shown before a table prints as {...}

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
  repeat return then true until while]]):gmatch("%a+") do keywords[w] = true end

local function is_name(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not keywords[k]
end

-- ---- the pretty printer ----

-- A table that a loaded module is prints as that module, not as its
-- hundreds of fields.
local function module_name(t)
  local best
  for name, mod in pairs(package.loaded) do
    if mod == t and (not best or #name < #best) then best = name end
  end
  return best
end

local function is_error(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and errors[mt.__name] == mt
end

-- The printed form of anything that is not shown as a table of fields.
local function atom(v)
  local tv = type(v)
  if tv == "string" then return pyrepr.quote(v) end
  if tv == "number" then return pyrepr.repr(v) end
  if tv == "nil" or tv == "boolean" then return tostring(v) end
  if tv == "table" then
    local mt = getmetatable(v)
    if mt == pyrepr.tuple_mt or mt == pyrepr.list_mt then return nil end
    if is_error(v) then return (errors.describe(v)) end
    local mod = module_name(v)
    if mod then return "<module '" .. mod .. "'>" end
    if mt ~= nil and (type(mt) ~= "table" or mt.__tostring) then
      local ok, s = pcall(tostring, v)
      return ok and type(s) == "string" and s or "<table>"
    end
    return nil
  end
  local ok, s = pcall(tostring, v)
  return ok and type(s) == "string" and s or "<" .. tv .. ">"
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    local rank = {number = 1, string = 2}
    return (rank[ta] or 3) < (rank[tb] or 3) or ((rank[ta] or 3) == (rank[tb] or 3) and ta < tb)
  end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

-- The entries of t in print order: the sequence 1..n, then the other keys
-- sorted. Raw access: printing must not run __index or __pairs.
local function entries(t)
  local list, n = {}, 0
  while rawget(t, n + 1) ~= nil do
    n = n + 1
    list[n] = {value = rawget(t, n)}
  end
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_order)
  for _, k in ipairs(keys) do list[#list + 1] = {key = k, value = rawget(t, k)} end
  return list
end

local render

local function key_text(k, seen, depth)
  if is_name(k) then return k .. " = " end
  return "[" .. render(k, "", seen, depth + 1) .. "] = "
end

-- Python-style sequences (addresses, resolver lists) keep their brackets.
local function brackets(t)
  local mt = getmetatable(t)
  if mt == pyrepr.tuple_mt then return "(", ")", true end
  if mt == pyrepr.list_mt then return "[", "]", true end
  return "{", "}", false
end

-- render(v, indent, seen, depth) -> text: on one line if it fits in the
-- width left after indent, else one entry per line, nested tables indented.
function render(v, indent, seen, depth)
  local a = atom(v)
  if a then return a end
  if seen[v] then return "<cycle>" end
  local open, close, python = brackets(v)
  if depth >= M.max_depth then return open .. "..." .. close end
  seen[v] = true
  local list = python and {} or entries(v)
  if python then
    for i = 1, (v.n or #v) do list[i] = {value = v[i]} end
  end
  local shown = math.min(#list, M.max_items)
  local parts = {}
  -- Children are laid out for the indent they get if v spans lines; if v
  -- fits on one line, so did they.
  for i = 1, shown do
    local e = list[i]
    local k = e.key ~= nil and key_text(e.key, seen, depth) or ""
    -- an item of a Python sequence with its own __repr (an ipaddress
    -- object) shows as Python shows it in a list
    local mt = python and type(e.value) == "table" and getmetatable(e.value)
    if type(mt) == "table" and mt.__repr ~= nil then
      parts[i] = k .. pyrepr.repr(e.value)
    else
      parts[i] = k .. render(e.value, indent .. "  ", seen, depth + 1)
    end
  end
  if #list > shown then parts[#parts + 1] = "... (" .. (#list - shown) .. " more)" end
  seen[v] = nil
  local flat = table.concat(parts, ", ")
  if python and #list == 1 and open == "(" then flat = flat .. "," end
  flat = open .. flat .. close
  if #indent + #flat <= M.width and not flat:find("\n", 1, true) then return flat end
  local inner = indent .. "  "
  -- A long run of plain values fills lines, as a list of names should.
  do
    local packed, line, simple = {}, inner, true
    for i = 1, #parts do
      local p, e = parts[i], i <= shown and list[i]
      if e and (e.key ~= nil or (type(e.value) == "table" and not atom(e.value))) then
        simple = false
        break
      end
      local piece = p .. (i < #parts and "," or "")
      if #line > #inner and #line + 1 + #piece > M.width then
        packed[#packed + 1] = line
        line = inner .. piece
      else
        line = line .. (#line > #inner and " " or "") .. piece
      end
    end
    if simple then
      packed[#packed + 1] = line
      return open .. "\n" .. table.concat(packed, "\n") .. "\n" .. indent .. close
    end
  end
  return open .. "\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. close
end

-- repr(v) -> the pretty text of v: nested tables indented, cycles marked
-- <cycle>, addresses as Python tuples, sockets as their repr, error objects
-- as their message, and more than max_items entries cut with a count.
function M.repr(v)
  return render(v, "", {}, 0)
end

-- pprint(...) prints each value's repr, tab-separated, as print would.
function M.pprint(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = M.repr((select(i, ...))) end
  print(table.concat(parts, "\t"))
end

-- ---- compiling what was typed ----

-- compile(code[, env]) -> fn, or nil, message, incomplete. As lua.c does:
-- "return <code>" first, so an expression shows its values; "=expr" is
-- Lua 5.1's way to ask for that; an error at <eof> means more lines follow.
local function check_arg(v, n, fname, want, optional)
  if (v == nil and optional) or type(v) == want then return end
  error(string.format("bad argument #%d to '%s' (%s expected, got %s)", n, fname, want,
    v == nil and "no value" or type(v)), 3)
end

function M.compile(code, env)
  check_arg(code, 1, "compile", "string")
  check_arg(env, 2, "compile", "table", true)
  env = env or _G
  local src = code
  if src:sub(1, 1) == "=" then src = "return " .. src:sub(2) end
  local fn = load("return " .. src, "=stdin", "t", env)
  if fn then return fn end
  local err
  fn, err = load(src, "=stdin", "t", env)
  if fn then return fn end
  return nil, err, err:sub(-5) == "<eof>"
end

-- show(...) prints a statement's results, if any.
function M.show(...)
  if select("#", ...) > 0 then M.pprint(...) end
end

-- traceback(err) -> the text for a statement's error: its Python-style
-- description and the traceback down to the statement, not the REPL's
-- own frames below it.
function M.traceback(err)
  local text, traced = errors.describe(err)
  if not traced then return text end
  local tb = debug.traceback(text, 2)
  local at = tb:find("\n\tstdin:%d+: in main chunk")
  if at then
    local stop = tb:find("\n", at + 1, true)
    if stop then tb = tb:sub(1, stop - 1) end
  end
  return tb
end

-- ---- what an object offers: dir, help, completion ----

-- Extra fields of userdata types that getmetatable does not show (a
-- socket's family, type, proto and timeout, in its kind's __index).
local fields_of = {}

local function socket_fields()
  local socket = package.loaded.socket
  if socket and socket.SocketType and not fields_of[socket.SocketType] then
    fields_of[socket.SocketType] = {"family", "type", "proto", "timeout"}
  end
end

-- A C __index closure keeps its methods in upvalue tables.
local function add_closure_methods(names, f)
  for i = 1, 255 do
    local name, up = debug.getupvalue(f, i)
    if name == nil then break end
    if type(up) == "table" then
      for k, x in next, up do
        if type(k) == "string" and type(x) == "function" and k:sub(1, 2) ~= "__" then
          names[k] = names[k] or x
        end
      end
    end
  end
end

-- names(v) -> {name = value or true}: what v.name or v:name may reach,
-- found without calling anything the object defines.
local function names(v)
  local out = {}
  local tv = type(v)
  if tv == "string" then
    for k, x in pairs(string) do out[k] = x end
    return out
  end
  if tv == "table" then
    for k, x in next, v do
      if type(k) == "string" then out[k] = x end
    end
  end
  local mt = getmetatable(v)
  socket_fields()
  for _, f in ipairs(fields_of[mt] or {}) do out[f] = true end
  local guard = 0
  while type(mt) == "table" and guard < 16 do
    guard = guard + 1
    local index = rawget(mt, "__index")
    if type(index) == "table" then
      for k, x in next, index do
        if type(k) == "string" and k:sub(1, 2) ~= "__" and out[k] == nil then out[k] = x end
      end
      mt = getmetatable(index)
    else
      if type(index) == "function" then
        add_closure_methods(out, index)
      end
      break
    end
  end
  return out
end

local function sorted_names(set, public_only)
  local list = {}
  for k in pairs(set) do
    if not (public_only and k:sub(1, 1) == "_") then list[#list + 1] = k end
  end
  table.sort(list)
  return list
end

-- dir([obj]) -> a sorted list of the names obj offers (fields, methods);
-- with no argument, the global names. Prints like Python's dir().
function M.dir(...)
  if select("#", ...) == 0 then
    local set = names(M.env or _G)
    for k, x in pairs(_G) do if type(k) == "string" then set[k] = x end end
    return pyrepr.list(sorted_names(set))
  end
  return pyrepr.list(sorted_names(names((...))))
end

-- A value's dotted name, when a loaded module holds it: socket.gethostname.
local function qualified_name(v)
  local best
  for modname, mod in pairs(package.loaded) do
    if type(mod) == "table" and modname ~= "_G" and mod ~= v then
      for k, x in next, mod do
        if x == v and is_name(k) then
          local name = modname .. "." .. k
          local internal = modname:find("^moonsock%.") ~= nil
          if not best or (best.internal and not internal) or
             (best.internal == internal and #name < #best.name) then
            best = {name = name, internal = internal}
          end
        end
      end
    end
  end
  if best then return best.name end
  for k, x in next, _G do
    if x == v and is_name(k) then return k end
  end
end

local function signature(f, drop_self)
  local info = debug.getinfo(f, "Su")
  if info.what == "C" then return "(...)", "built-in function" end
  local params = {}
  for i = 1, info.nparams do params[#params + 1] = debug.getlocal(f, i) end
  if drop_self and params[1] == "self" then table.remove(params, 1) end
  if info.isvararg then params[#params + 1] = "..." end
  return "(" .. table.concat(params, ", ") .. ")",
    "Lua function, " .. info.short_src .. ":" .. info.linedefined
end

-- Words laid out in rows that fit the printer's width.
local function columns(words, indent)
  indent = indent or "  "
  local lines, line = {}, indent
  for _, w in ipairs(words) do
    if #line > #indent and #line + #w + 2 > M.width then
      lines[#lines + 1] = line
      line = indent
    end
    line = line .. (#line > #indent and "  " or "") .. w
  end
  if #line > #indent then lines[#lines + 1] = line end
  return table.concat(lines, "\n")
end

local function classify(set)
  local funcs, tables, values = {}, {}, {}
  for _, k in ipairs(sorted_names(set, true)) do
    local x = set[k]
    if type(x) == "function" then funcs[#funcs + 1] = k
    elseif type(x) == "table" then tables[#tables + 1] = k
    else values[#values + 1] = k end
  end
  return funcs, tables, values
end

local guide = [[
moonsock %s REPL: Lua 5.4, with Python's socket API, on an event loop that
keeps running while you type, so the tasks you spawn go on serving.

  socket, task     are loaded; require "select", "selectors", "socketserver",
                   "ipaddress", ... for the others
  help(x), dir(x)  what a module, function, socket or table offers
  expr, =expr      shows the values; repl.pprint(v) does the same in scripts
  Tab              completes names, fields (socket.geth) and methods (s:set)
  Ctrl-C           interrupts the statement that blocks, or clears the line
  Ctrl-D           leaves (os.exit() too)

A server that answers while you type:
  srv = socket.create_server({"127.0.0.1", 8080})
  task.spawn(function()
    while true do
      local c = srv:accept()
      task.spawn(function() c:sendall(c:recv(1024)) c:close() end)
    end
  end)]]

M.version = "0.1.0"

local function help_module(name, mod)
  local funcs, tables, values = classify(names(mod))
  local out = {string.format("module %s (require %q)", name, name)}
  if #funcs > 0 then out[#out + 1] = "functions:\n" .. columns(funcs) end
  if #tables > 0 then out[#out + 1] = "classes and tables:\n" .. columns(tables) end
  if #values > 0 then
    local shown = {}
    for i = 1, math.min(#values, 40) do
      shown[i] = values[i] .. "=" .. atom(mod[values[i]])
    end
    if #values > 40 then shown[#shown + 1] = "... (" .. (#values - 40) .. " more)" end
    out[#out + 1] = "values:\n" .. columns(shown)
  end
  return table.concat(out, "\n")
end

local function help_object(v)
  local set = names(v)
  local funcs, tables, values = classify(set)
  local out = {type(v) .. " " .. M.repr(v):match("^[^\n]*")}
  if #funcs > 0 then
    local sigs = {}
    for _, k in ipairs(funcs) do
      local f = set[k]
      local sig = type(f) == "function" and signature(f, true) or ""
      sigs[#sigs + 1] = k .. (sig == "(...)" and "" or sig)
    end
    out[#out + 1] = "methods (call as obj:name(...)):\n" .. columns(sigs)
  end
  local fields = {}
  for _, k in ipairs(tables) do fields[#fields + 1] = k end
  for _, k in ipairs(values) do fields[#fields + 1] = k end
  if #fields > 0 then out[#out + 1] = "fields:\n" .. columns(fields) end
  return table.concat(out, "\n")
end

-- help([obj]) prints a short guide, or what obj offers: a module's
-- functions, tables and values; a function's parameters and where it is
-- defined; a socket's (or any object's) methods and fields. help("socket")
-- loads and describes that module.
function M.help(...)
  if select("#", ...) == 0 then
    print(guide:format(M.version))
    return
  end
  local v = ...
  if type(v) == "string" and package.loaded[v] == nil then
    local ok, mod = pcall(require, v)
    if ok then v = mod end
  end
  if type(v) == "string" and type(package.loaded[v]) == "table" then v = package.loaded[v] end
  local modname = type(v) == "table" and module_name(v)
  if modname then
    print(help_module(modname, v))
  elseif type(v) == "function" then
    local sig, what = signature(v)
    print((qualified_name(v) or "function") .. sig .. "\n  " .. what)
  elseif is_error(v) then
    print(errors.describe(v) .. "\n  an instance of " .. getmetatable(v).__name)
  elseif type(v) == "table" or type(v) == "userdata" then
    print(help_object(v))
  elseif v == nil then
    print("nil")
  else
    print(type(v) .. " " .. M.repr(v))
  end
end

-- complete(text[, env]) -> the sorted completions of the word text: a
-- global or keyword, a field after dots (socket.geth), a method after a
-- colon (s:set). Functions get a "(", as Python's rlcompleter does.
function M.complete(text, env)
  check_arg(text, 1, "complete", "string")
  check_arg(env, 2, "complete", "table", true)
  env = env or M.env or _G
  local base, sep, part = text:match("^([%a_][%w_%.]*)([%.:])([%w_]*)$")
  local set, prefix
  if base then
    if base:find("..", 1, true) or base:sub(-1) == "." then return {} end
    local v = env
    for name in base:gmatch("[^%.]+") do
      local ok, x = pcall(function() return v[name] end)
      if not ok or x == nil then return {} end
      v = x
    end
    set = names(v)
    if sep == ":" then
      for k, x in pairs(set) do
        if type(x) ~= "function" then set[k] = nil end
      end
    end
    prefix = base .. sep
  else
    if not text:match("^[%a_]?[%w_]*$") then return {} end
    part, prefix = text, ""
    set = names(env)
    for k, x in pairs(_G) do if type(k) == "string" then set[k] = set[k] or x end end
    for k in pairs(keywords) do set[k] = set[k] or true end
  end
  local out = {}
  for k, x in pairs(set) do
    if is_name(k) or (prefix == "" and keywords[k]) then
      if k:sub(1, #part) == part and (k:sub(1, 1) ~= "_" or part:sub(1, 1) == "_") then
        out[#out + 1] = prefix .. k .. (type(x) == "function" and "(" or "")
      end
    end
  end
  table.sort(out)
  return out
end

-- new_env() -> the environment statements run in: reads fall through to
-- _G and assignments go to _G, while help, dir, repl and the two modules
-- people reach for first are at hand without touching _G.
function M.new_env()
  local env = {help = M.help, dir = M.dir, repl = M}
  for _, name in ipairs {"socket", "task"} do
    local ok, mod = pcall(require, name)
    if ok then env[name] = mod end
  end
  return setmetatable(env, {__index = _G, __newindex = _G})
end

-- ---- output while a prompt is shown, and into attached sessions ----

local sessions = setmetatable({}, {__mode = "k"}) -- statement task -> session
local guard                                      -- {hide = f, show = f}
local hooked = false

local function ends_line(...)
  local last
  for i = select("#", ...), 1, -1 do
    local s = tostring((select(i, ...)))
    if #s > 0 then last = s break end
  end
  return last == nil or last:sub(-1) == "\n"
end

local function session_here()
  if next(sessions) == nil then return nil end
  return sessions[core.current()]
end

local function guarded(at_line_start, f, ...)
  guard.hide()
  local res = table.pack(pcall(f, ...))
  io.stdout:flush()
  io.stderr:flush()
  guard.show(at_line_start)
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- Wraps print, io.write and the stdout/stderr write methods once: output
-- from a statement of an attached session goes to its client, and output
-- while the terminal shows a prompt is written above the prompt.
local function hook_output()
  if hooked then return end
  hooked = true
  local raw_print = print
  local fmethods = getmetatable(io.stdout).__index
  local raw_write = fmethods.write
  local stdout, stderr = io.stdout, io.stderr
  -- luacheck: push ignore 121 122
  print = function(...)
    local s = session_here()
    if s then
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      s:send("O", table.concat(parts, "\t") .. "\n")
      return
    end
    if guard then return guarded(true, raw_print, ...) end
    return raw_print(...)
  end
  -- Checked here, so that a wrong value is refused as io's own write
  -- refuses it ("bad argument #1 to 'write'"), not in raw_write's name.
  local function check_write_args(...)
    for i = 1, select("#", ...) do
      local x = select(i, ...)
      local tx = type(x)
      if tx ~= "string" and tx ~= "number" then
        error(string.format("bad argument #%d to 'write' (string expected, got %s)", i,
          errors.typename(x)), 3)
      end
    end
  end
  fmethods.write = function(f, ...)
    check_write_args(...)
    if f == stdout or f == stderr then
      local s = session_here()
      if s then
        local parts = {}
        for i = 1, select("#", ...) do
          local x = select(i, ...)
          parts[i] = tostring(x)
        end
        s:send("O", table.concat(parts))
        return f
      end
      if guard then return guarded(ends_line(...), raw_write, f, ...) end
    end
    return raw_write(f, ...)
  end
  io.write = function(...) return io.output():write(...) end
  -- luacheck: pop
end

-- guard_output(hide, show): the terminal's prompt is cleared by hide() and
-- drawn again by show(at_line_start) around output written while it is
-- shown (the moonsock command passes libedit's). nil removes the guard.
function M.guard_output(hide, show)
  hook_output()
  guard = hide and {hide = hide, show = show} or nil
end

-- ---- repl.serve(path): the REPL on a UNIX socket, for moonsock --attach ----
--
-- Frames both ways: one kind byte, a 4-byte big-endian length, the payload.
-- Client to server: L a line typed, C text to complete, I interrupt (Ctrl-C).
-- Server to client: B the banner, O output, P a prompt (ready for the next
-- line), C completions (one per line), X a refusal (the server then closes).

local function frame(kind, payload) return string.pack(">c1s4", kind, payload) end
M.frame = frame

local Session = {}
Session.__index = Session

function Session:send(kind, payload)
  if self.closed then return end
  self.out[#self.out + 1] = frame(kind, payload)
  self.ready:set()
end

local function writer(self)
  while not self.closed do
    self.ready:wait()
    self.ready:clear()
    local data = table.concat(self.out)
    self.out = {}
    if #data > 0 and not pcall(self.conn.sendall, self.conn, data) then self:close() end
  end
end

-- read() -> kind, payload; nil once the client has gone.
function Session:read()
  while true do
    if #self.inbuf >= 5 then
      local len = string.unpack(">I4", self.inbuf, 2)
      if #self.inbuf >= 5 + len then
        local kind, payload = self.inbuf:sub(1, 1), self.inbuf:sub(6, 5 + len)
        self.inbuf = self.inbuf:sub(6 + len)
        return kind, payload
      end
    end
    local ok, data = pcall(self.conn.recv, self.conn, 65536)
    if not ok or data == "" then return nil end
    self.inbuf = self.inbuf .. data
  end
end

function Session:prompt(first)
  local p = rawget(_G, first and "_PROMPT" or "_PROMPT2")
  self:send("P", type(p) == "string" and p or (first and "> " or ">> "))
end

local function run_statement(self, fn)
  sessions[core.current()] = self
  local res = table.pack(xpcall(fn, function(e)
    if self.interrupted and errors.Cancelled:matches(e) then e = errors.KeyboardInterrupt() end
    return M.traceback(e)
  end))
  if res[1] then
    local ok, err = pcall(M.show, table.unpack(res, 2, res.n))
    if not ok then self:send("O", M.traceback(err) .. "\n") end
  else
    self:send("O", res[2] .. "\n")
  end
  sessions[core.current()] = nil
  self.running, self.interrupted = nil, false
  self:prompt(true)
end

function Session:line(text)
  if self.running then return end -- lines come only after a prompt
  local code = self.pending and self.pending .. "\n" .. text or text
  local fn, err, incomplete = M.compile(code, self.env)
  if incomplete then
    self.pending = code
    return self:prompt(false)
  end
  self.pending = nil
  if not fn then
    self:send("O", err .. "\n")
    return self:prompt(true)
  end
  local task = require "task"
  self.running = task.spawn_daemon(run_statement, self, fn)
end

function Session:interrupt()
  if self.running then
    self.interrupted = true
    self.running:cancel()
  else
    self.pending = nil
    self:prompt(true)
  end
end

function Session:close()
  if self.closed then return end
  self.closed = true
  self.ready:set()
  if self.running then self.running:cancel() end
  pcall(self.conn.close, self.conn)
  self.server.sessions[self] = nil
end

-- The uid on the other end of a UNIX stream socket, as the kernel saw it
-- at connect time (struct ucred: pid, uid, gid).
local function peer_uid(conn)
  local socket = require "socket"
  local ok, cred = pcall(conn.getsockopt, conn, socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
  if not ok or type(cred) ~= "string" or #cred < 12 then return nil end
  local pid, uid = string.unpack("=i4I4", cred)
  return uid, pid
end

-- Our own uid and pid, as the kernel reports them for a socketpair.
local function own_uid()
  local socket = require "socket"
  local a, b = socket.socketpair()
  local uid, pid = peer_uid(a)
  a:close()
  b:close()
  return uid, pid
end

local function session_main(server, conn)
  local uid = peer_uid(conn)
  if uid == nil or uid ~= server.uid then
    pcall(conn.sendall, conn, frame("X", string.format(
      "moonsock: attach refused: peer uid %s is not the server's uid %d\n", tostring(uid), server.uid)))
    pcall(conn.close, conn)
    return
  end
  local task = require "task"
  local self = setmetatable({conn = conn, server = server, out = {}, inbuf = "",
                             ready = task.Event(), env = server.env}, Session)
  server.sessions[self] = true
  task.spawn_daemon(writer, self)
  self:send("B", string.format("moonsock %s REPL in process %d, attached through %s\n" ..
    "Type help() for help, Ctrl-D to detach.\n", M.version, server.pid, server.path))
  self:prompt(true)
  while not self.closed do
    local kind, payload = self:read()
    if kind == nil then break end
    if kind == "L" then self:line(payload)
    elseif kind == "C" then
      local ok, list = pcall(M.complete, payload, self.env)
      self:send("C", ok and table.concat(list, "\n") or "")
    elseif kind == "I" then self:interrupt()
    end
  end
  self:close()
end

-- The socket file must never be open to others, even for an instant: it is
-- created under umask 0177 (mode 0600).
local function umask_fn()
  local ok, posix = pcall(require, "moonsock.posix")
  if ok and type(posix) == "table" and posix.umask then return posix.umask end
  return nil
end

local function bind_private(sock, path)
  local umask = umask_fn()
  if not umask then
    error("repl.serve: this host offers no umask, so the socket file cannot be made private", 3)
  end
  local old = umask(tonumber("177", 8))
  local ok, err = pcall(sock.bind, sock, path)
  umask(old)
  return ok, err
end

local Server = {}
Server.__index = Server
Server.__name = "repl.Server"

function Server:__tostring() return string.format("<repl server at %s>", self.path) end

-- close() stops accepting, ends the attached sessions and removes the file.
function Server:close()
  if self.closed then return end
  self.closed = true
  pcall(self.sock.close, self.sock)
  for s in pairs(self.sessions) do s:close() end
  os.remove(self.path)
end

local function accept_loop(server)
  local task = require "task"
  while not server.closed do
    local ok, conn = pcall(server.sock.accept, server.sock)
    if not ok then break end
    task.spawn_daemon(session_main, server, conn)
  end
end

-- serve(path) -> a server offering this REPL on the UNIX socket path, to
-- `moonsock --attach path`, for the same uid only (the socket file has
-- mode 0600, and each peer's credentials are checked). Statements run as
-- tasks of this program, on its loop; what they print goes to the client.
-- A stale socket file nobody listens on is replaced. server:close() stops.
function M.serve(path)
  if type(path) ~= "string" then
    error("bad argument #1 to 'serve' (string expected, got " .. type(path) .. ")", 2)
  end
  local socket = require "socket"
  local task = require "task"
  local sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
  local ok, err = bind_private(sock, path)
  if not ok and errors.OSError:matches(err) and err.errno == 98 then
    -- EADDRINUSE: replace the file only if it is a socket nobody answers
    -- on. connect answers ECONNREFUSED for a regular file too, and a
    -- path given by mistake must not cost the user that file.
    local probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    local rc = probe:connect_ex(path)
    probe:close()
    local okp, posix = pcall(require, "moonsock.posix")
    if rc == 111 and okp and posix._issock(path) then
      os.remove(path)
      ok, err = bind_private(sock, path)
    end
  end
  if not ok then
    sock:close()
    error(err, 2)
  end
  sock:listen(8)
  local uid, pid = own_uid()
  local server = setmetatable({path = path, sock = sock, uid = uid, pid = pid, sessions = {},
                               env = M.new_env()}, Server)
  hook_output()
  task.spawn_daemon(accept_loop, server)
  return server
end

return M
