-- docs/api.md against the code: every `### ` heading must name a function,
-- method or field that exists, and everything public must have a heading,
-- so that nothing new can slip by undocumented. The socket names the doc
-- calls "same" as Python's are looked up in python3's socket module.
local socket = require "socket"
local task = require "task"
local thread = require "thread"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"
local h = require "spec.support.helpers"

-- The doc sits in docs/ next to spec/, wherever busted was started.
local function doc_path()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/spec/[^/]*$") or "."
  return dir .. "/docs/api.md"
end

local function read_doc()
  local f = assert(io.open(doc_path(), "r"))
  local text = f:read("a")
  f:close()
  return text
end

-- The lines of the doc outside fenced code blocks, with their numbers.
local function prose_lines(text)
  local out, fenced, n = {}, false, 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if line:match("^```") then
      fenced = not fenced
    elseif not fenced then
      out[#out + 1] = {n = n, text = line}
    end
  end
  return out
end

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

local function sorted(t)
  table.sort(t)
  return t
end

-- Public keys: strings that do not start with "_".
local function public(k) return type(k) == "string" and not k:find("^_") end

-- Python's integer constants as moonsock spells them: upper-case names with
-- integer values (constants are documented by prefix, not one by one).
local function is_constant(k, v)
  return type(k) == "string" and k:match("^[A-Z][A-Z0-9_]*$") ~= nil and math.type(v) == "integer"
end

-- Every public method of obj's class, following __index tables up the chain.
local function class_methods(obj)
  local out, seen = {}, {}
  local cls = getmetatable(obj).__index
  while type(cls) == "table" do
    for k, v in pairs(cls) do
      if public(k) and not seen[k] and type(v) == "function" then
        seen[k] = true
        out[#out + 1] = k
      end
    end
    local mt = getmetatable(cls)
    cls = mt and mt.__index
  end
  return sorted(out)
end

-- ---- the objects the headings talk about ----

local objects -- prefix -> {get = function() -> value, methods = list or nil, parent = prefix}
local cleanup = {}

local function build_objects()
  local sock = socket.socket()
  sock:settimeout(1) -- so that sock.timeout is a value, not nil
  local a, b = socket.socketpair()
  local file = a:makefile("rwb")
  local handle = task.spawn(function() return true end)
  handle:join(5)
  cleanup = {sock, a, b}
  objects = {
    sock = {get = sock},
    file = {get = file},
    t = {get = handle},
    lock = {get = task.Lock()},
    rlock = {get = task.RLock()},
    sem = {get = task.Semaphore()},
    bsem = {get = task.BoundedSemaphore(), parent = "sem"},
    ev = {get = task.Event()},
    cond = {get = task.Condition()},
    q = {get = task.Queue()},
    lq = {get = task.LifoQueue(), parent = "q"},
    pq = {get = task.PriorityQueue(), parent = "q"},
    sq = {get = task.SimpleQueue(), parent = "q"},
    err = {get = errors.OSError(111, "Connection refused")},
    cls = {get = errors.OSError},
  }
  return file
end

local modules = {socket = socket, task = task, thread = thread, errors = errors, repr = repr}

-- Section titles: words only. Anything else is an API heading.
local SECTION_TITLES = {
  ["Module functions"] = true, ["Constants"] = true, ["Socket objects"] = true,
  ["Makefile objects"] = true, ["Addresses"] = true, ["Errors"] = true, ["Timeouts"] = true,
  ["Resolver functions"] = true, ["Task handles"] = true,
}

-- Parses "### prefix.name(args)" / "### prefix:name(args)" / "### cls(args)".
-- Returns an entry or nil, problem.
local function parse_heading(text)
  if text:match("^cls%(.*%)$") then return {prefix = "cls", sep = "()", name = nil, call = true} end
  local prefix, sep, name, rest = text:match("^([%a][%w_]*)([.:])([%a_][%w_]*)(.*)$")
  if not prefix then return nil, "not an API heading" end
  if rest ~= "" and not rest:match("^%(.*%)$") then return nil, "junk after the name" end
  if sep == ":" and rest == "" then return nil, "a method heading needs its (arguments)" end
  return {prefix = prefix, sep = sep, name = name, call = rest ~= ""}
end

local doc, headings, bad_headings, titles, sections

local function load_doc()
  doc = read_doc()
  headings, bad_headings, titles, sections = {}, {}, {}, {}
  local lines = prose_lines(doc)
  local current
  for _, l in ipairs(lines) do
    local text = l.text:match("^### (.+)$")
    local top = l.text:match("^## (.+)$")
    if top then sections[#sections + 1] = top end
    if text or top then current = nil end
    if text then
      text = text:gsub("%s+$", "")
      if SECTION_TITLES[text] then
        titles[text] = true
      elseif text:match("^[%a ]+$") then
        bad_headings[#bad_headings + 1] = l.n .. ": unknown section title '" .. text .. "'"
      else
        local e, why = parse_heading(text)
        if e then
          e.text, e.line, e.body = text, l.n, {}
          headings[#headings + 1] = e
          current = e
        else
          bad_headings[#bad_headings + 1] = l.n .. ": " .. why .. ": '" .. text .. "'"
        end
      end
    elseif current then
      table.insert(current.body, l.text)
    end
  end
end

-- documented["socket.getaddrinfo"], documented["sock:recv"], documented["cls()"]
local function documented_set()
  local set = {}
  for _, e in ipairs(headings) do
    set[e.prefix .. e.sep .. (e.name or "")] = e
  end
  return set
end

-- Does the thing a heading names exist, as the kind of thing it says?
local function check_exists(e)
  local mod = modules[e.prefix]
  if mod then
    local v = mod[e.name]
    if v == nil then return "no such field in " .. e.prefix end
    if e.sep == ":" then return "module functions are written " .. e.prefix .. "." .. e.name .. "(...)" end
    if e.call and not callable(v) then return "not a function" end
    return nil
  end
  local o = objects[e.prefix]
  if not o then return "unknown prefix '" .. e.prefix .. "'" end
  if e.prefix == "cls" and e.sep == "()" then
    if not callable(o.get) then return "error classes are not callable" end
    return nil
  end
  local ok, v = pcall(function() return o.get[e.name] end)
  if not ok then return "indexing failed: " .. tostring(v) end
  if e.sep == ":" then
    if type(v) ~= "function" then return "no such method" end
    if e.prefix == "sock" and require("moonsock.core.socket").methods[e.name] ~= v then
      return "not a socket method"
    end
  else
    if v == nil then return "no such field" end
    if type(v) == "function" then return "a method, written " .. e.prefix .. ":" .. e.name .. "(...)" end
  end
  return nil
end

describe("docs/api.md", function()
  local file

  setup(function()
    load_doc()
    file = build_objects()
  end)

  teardown(function()
    if file and not file.closed then file:close() end
    for _, s in ipairs(cleanup) do s:close() end
  end)

  it("has the sections in the order of the brief", function()
    local want = {"The task model", "socket", "task", "Synchronisation objects", "thread",
                  "Command line", "moonsock.errors", "moonsock.repr"}
    assert.are.same(want, sections)
    local missing = {}
    for title in pairs(SECTION_TITLES) do
      if not titles[title] then missing[#missing + 1] = title end
    end
    assert.are.same({}, sorted(missing))
    -- Python's `except` written the Lua way, and the statuses of the command line.
    assert.truthy(doc:find("socket.gaierror:matches(err)", 1, true))
    for _, status in ipairs {"0", "1", "130"} do
      assert.truthy(doc:find("\n%- " .. status .. ":"), "exit status " .. status .. " undocumented")
    end
  end)

  it("has only headings it can parse", function()
    assert.is_true(#headings > 100, "only " .. #headings .. " API headings found")
    assert.are.same({}, bad_headings)
  end)

  it("names only functions, methods and fields that exist", function()
    local wrong = {}
    for _, e in ipairs(headings) do
      local why = check_exists(e)
      if why then wrong[#wrong + 1] = e.line .. ": " .. e.text .. ": " .. why end
    end
    assert.are.same({}, wrong)
  end)

  it("documents each name once, with a Python: line", function()
    local seen, wrong = {}, {}
    for _, e in ipairs(headings) do
      local key = e.prefix .. e.sep .. (e.name or "")
      if seen[key] then wrong[#wrong + 1] = e.line .. ": " .. e.text .. ": documented twice" end
      seen[key] = true
      local has_python = false
      for _, l in ipairs(e.body) do
        if l:match("^Python: ") then has_python = true end
      end
      if not has_python then wrong[#wrong + 1] = e.line .. ": " .. e.text .. ": no 'Python:' line" end
    end
    assert.are.same({}, wrong)
  end)

  it("documents every public name of socket, task, thread and moonsock.repr", function()
    local set, missing = documented_set(), {}
    for prefix, mod in pairs {socket = socket, task = task, thread = thread, repr = repr} do
      for k, v in pairs(mod) do
        if public(k) and not (prefix == "socket" and is_constant(k, v)) then
          if not set[prefix .. "." .. k] then missing[#missing + 1] = prefix .. "." .. k end
        end
      end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("names the prefix of every socket constant, and no prefix without one", function()
    local para = doc:match("\nPrefixes:(.-)\n\n")
    assert.is_string(para, "no 'Prefixes:' paragraph")
    local prefixes, used = {}, {}
    for p in para:gmatch("`([%w_]+)`") do prefixes[#prefixes + 1] = p end
    assert.is_true(#prefixes > 10)
    local unnamed, count = {}, 0
    for k, v in pairs(socket) do
      if is_constant(k, v) then
        count = count + 1
        local found = false
        for _, p in ipairs(prefixes) do
          local whole = not p:find("_$")
          if (whole and k == p) or (not whole and k:sub(1, #p) == p) then
            found = true
            used[p] = true
          end
        end
        if not found then unnamed[#unnamed + 1] = k end
      end
    end
    assert.is_true(count > 300, "only " .. count .. " constants")
    assert.are.same({}, sorted(unnamed))
    local stale = {}
    for _, p in ipairs(prefixes) do
      if not used[p] then stale[#stale + 1] = p end
    end
    assert.are.same({}, stale)
  end)

  it("documents every socket method and field, and every task handle method", function()
    local set, missing = documented_set(), {}
    for k in pairs(require("moonsock.core.socket").methods) do
      if public(k) and not set["sock:" .. k] then missing[#missing + 1] = "sock:" .. k end
    end
    -- The fields come from the C __index (src/socket.c sock_index): Lua cannot
    -- list a userdata's fields, so they are named here.
    for _, k in ipairs {"family", "type", "proto", "timeout"} do
      if not set["sock." .. k] then missing[#missing + 1] = "sock." .. k end
    end
    for k in pairs(require("moonsock.core.task").methods) do
      if public(k) and not set["t:" .. k] then missing[#missing + 1] = "t:" .. k end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("documents every method of makefile and synchronisation objects", function()
    local set, missing = documented_set(), {}
    for prefix, o in pairs(objects) do
      if prefix ~= "sock" and prefix ~= "t" and prefix ~= "err" and prefix ~= "cls" then
        for _, k in ipairs(class_methods(o.get)) do
          local here = set[prefix .. ":" .. k]
          local inherited = o.parent and set[o.parent .. ":" .. k]
          if not here and not inherited then missing[#missing + 1] = prefix .. ":" .. k end
        end
      end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("documents moonsock.errors: its functions and aliases, and every class in the tree", function()
    -- Modules define their classes when they load: load them all, so the
    -- answer does not depend on which specs ran before.
    for _, m in ipairs {"socket", "task", "thread", "select", "selectors", "socketserver", "asyncore",
                        "asynchat", "ipaddress", "urllib.parse", "binascii", "errno", "moonsock.posix",
                        "moonsock.makefile"} do
      require(m)
    end
    local set, missing = documented_set(), {}
    local tree = doc:match("\n## moonsock%.errors\n.-\n```\n(.-)\n```")
    assert.is_string(tree, "no class tree under ## moonsock.errors")
    local in_tree = {}
    for name in tree:gmatch("([%a_][%w_%.]*)") do in_tree[name] = true end
    for k, v in pairs(errors) do
      if public(k) then
        local is_class = type(v) == "table" and rawget(v, "__name") == k
        if is_class then
          if not in_tree[k] then missing[#missing + 1] = "class " .. k .. " not in the tree" end
        elseif not set["errors." .. k] then
          missing[#missing + 1] = "errors." .. k
        end
      end
    end
    -- The tree has no class moonsock lacks.
    for name in pairs(in_tree) do
      if name ~= "alias" and name ~= "error" and name ~= "timeout"
          and not (type(errors[name]) == "table" and rawget(errors[name], "__name") == name) then
        missing[#missing + 1] = "tree names " .. name .. ", which errors lacks"
      end
    end
    for _, k in ipairs {"err.errno", "err.strerror", "err.args", "err:isinstance", "cls:matches", "cls()"} do
      if not set[k] then missing[#missing + 1] = k end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("calls the socket names 'same' as Python only where python3's socket module has them", function()
    -- Each documented module function or socket method whose Python line
    -- starts "Python: same" must exist in Python under that name, and each
    -- method the doc says is not provided must be in Python and not here.
    local funcs, meths = {}, {}
    for _, e in ipairs(headings) do
      local same = false
      for _, l in ipairs(e.body) do
        if l:match("^Python: same") then same = true end
      end
      if same and e.prefix == "socket" then funcs[#funcs + 1] = e.name end
      if same and e.prefix == "sock" then meths[#meths + 1] = e.name end
    end
    local absent = {}
    local para = doc:match("\nNot provided:(.-)\n\n") or doc:match("\nNot provided:(.-)$")
    assert.is_string(para, "no 'Not provided:' paragraph")
    for name in para:gmatch("`([%w_]+)`") do
      absent[#absent + 1] = name
      assert.is_nil(socket.socket()[name], name .. " is said to be missing but exists")
    end
    assert.is_true(#funcs > 20 and #meths > 20)
    local code = "import socket\ns = socket.socket()\n"
      .. "for n in " .. "'" .. table.concat(funcs, " ") .. "'.split():\n"
      .. "    print('socket.' + n, hasattr(socket, n))\n"
      .. "for n in " .. "'" .. table.concat(meths, " ") .. " " .. table.concat(absent, " ") .. "'.split():\n"
      .. "    print('sock:' + n, hasattr(s, n))\n"
    local out = h.python(code)
    local lacking = {}
    for name, has in out:gmatch("(%S+) (%a+)\n") do
      if has ~= "True" then lacking[#lacking + 1] = name end
    end
    assert.are.same({}, lacking)
    local lines = select(2, out:gsub("\n", ""))
    assert.are.equal(#funcs + #meths + #absent, lines)
  end)
end)
