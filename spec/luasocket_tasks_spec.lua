-- LuaSocket's calls inside moonsock's tasks: a positive timeout, select,
-- sleep and a protected function park only their task; a timeout of 0
-- never parks (Copas and luamqtt poll that way); the two APIs meet.
--
-- Run: bin/moonsock /usr/bin/busted spec/luasocket_tasks_spec.lua
local socket = require "socket"
local task = require "task"
local luasocket = require "moonsock.luasocket"

-- ticker() -> a function giving how many times a task ticked meanwhile.
local function ticker()
  local ticks, running = 0, true
  local t = task.spawn(function()
    while running do
      ticks = ticks + 1
      task.sleep(0.01)
    end
  end)
  return function()
    running = false
    t:join(1)
    return ticks
  end
end

local function pair()
  local server = assert(socket.bind("127.0.0.1", 0))
  local _, port = server:getsockname()
  local client = assert(socket.connect("127.0.0.1", port))
  local conn = assert(server:accept())
  server:close()
  return client, conn
end

describe("LuaSocket in tasks", function()
  it("receive with a positive timeout parks only its task", function()
    local c, s = pair()
    s:settimeout(0.3)
    local stop = ticker()
    local t0 = task.now()
    local data, err, partial = s:receive("*l")
    local elapsed = task.now() - t0
    local ticks = stop()
    assert.are.same({nil, "timeout", ""}, {data, err, partial})
    assert.is_true(elapsed >= 0.25 and elapsed < 2, "waited " .. elapsed)
    assert.is_true(ticks >= 5, "the other task ticked " .. ticks .. " times")
    c:close()
    s:close()
  end)

  it("receive with timeout 0 answers at once without parking", function()
    local c, s = pair()
    s:settimeout(0)
    local stop = ticker()
    task.yield() -- the ticker has started and sleeps
    local t0 = task.now()
    for _ = 1, 1000 do
      local data, err = s:receive(1)
      assert.are.same({nil, "timeout"}, {data, err})
    end
    local elapsed = task.now() - t0
    local ticks = stop()
    assert.is_true(elapsed < 1, "1000 polls took " .. elapsed .. " s")
    -- the ticker ran once before the loop at most: the loop never yielded
    assert.is_true(ticks <= 2, "the loop let the other task run " .. ticks .. " times")
    c:close()
    s:close()
  end)

  it("a blocking receive wakes when another task sends", function()
    local c, s = pair()
    task.spawn(function()
      task.sleep(0.05)
      c:send("late line\r\n")
    end)
    assert.are.equal("late line", s:receive())
    c:close()
    s:close()
  end)

  it("socket.select parks only its task and returns what is ready", function()
    local c, s = pair()
    local stop = ticker()
    task.spawn(function()
      task.sleep(0.2)
      c:send("x")
    end)
    local r, w, err = socket.select({s}, nil, 5)
    local ticks = stop()
    assert.is_nil(err)
    assert.are.equal(s, r[1])
    assert.are.equal(1.0, r[s])
    assert.are.same({}, w)
    assert.is_true(ticks >= 5, "ticks " .. ticks)
    c:close()
    s:close()
  end)

  it("socket.sleep parks only its task", function()
    local stop = ticker()
    socket.sleep(0.2)
    assert.is_true(stop() >= 5)
  end)

  it("protect lets a protected function park", function()
    local c, s = pair()
    local f = socket.protect(function()
      s:settimeout(2)
      local line = socket.try(s:receive())
      return line .. "!"
    end)
    task.spawn(function()
      task.sleep(0.05)
      c:send("in protect\n")
    end)
    assert.are.equal("in protect!", f())
    c:close()
    assert.are.same({nil, "closed"}, {f()})
    s:close()
  end)

  it("closing an object another task waits on wakes it with closed", function()
    local c, s = pair()
    local got
    local t = task.spawn(function() got = {s:receive()} end)
    task.sleep(0.05)
    s:close()
    t:join(2)
    assert.are.same({nil, "closed", ""}, got)
    c:close()
  end)

  it("_SETSIZE is the process's fd limit", function()
    local p = io.popen("sh -c 'ulimit -n'")
    local limit = p:read("n")
    p:close()
    assert.are.equal(limit, socket._SETSIZE)
  end)

  it("turns a Python socket into a LuaSocket object and back", function()
    local server = socket.create_server({"127.0.0.1", 0})
    local port = server:getsockname()[2]
    local py = socket.create_connection({"127.0.0.1", port})
    local conn = server:accept()
    local fd = py:fileno()
    local ls = luasocket.from_python(py)
    assert.are.equal("tcp{client}", ls.class)
    assert.are.equal(fd + 0.0, ls:getfd())
    assert.are.equal(-1, py:fileno())
    conn:sendall("one\ntwo\n")
    assert.are.equal("one", ls:receive())
    local back, ahead = luasocket.to_python(ls)
    assert.are.equal("two\n", ahead)
    assert.are.equal(-1.0, ls:getfd())
    back:sendall("pong")
    assert.are.equal("pong", conn:recv(10))
    local listener = luasocket.from_python(server)
    assert.are.equal("tcp{server}", listener.class)
    back:close()
    conn:close()
    listener:close()
  end)

  it("setfd(-1) hands the fd over: moonsock no longer closes it", function()
    local c, s = pair()
    local fd = math.tointeger(s:getfd())
    s:setfd(-1)
    assert.are.equal(-1.0, s:getfd())
    s:close()
    collectgarbage()
    local py = socket.socket(nil, nil, nil, fd)
    c:send("still open")
    assert.are.equal("still open", py:recv(20))
    py:close()
    c:close()
  end)
end)
