-- luasocket_fetch.lua: fetches every URL given with Debian's socket.http,
-- unchanged, and prints status and size in the order given.
-- Shows: under moonsock each request runs in a task of its own, so N slow
-- requests take about the time of one; under stock lua5.4 with LuaSocket the
-- same script fetches them one after the other.
-- Usage: luasocket_fetch.lua url...
local http = require "socket.http"
local has_tasks, task = pcall(require, "task")

local results = {}
local function fetch(i, url)
  local body, code = http.request(url)
  if body then
    results[i] = string.format("%s %s %d bytes", url, code, #body)
  else
    results[i] = string.format("%s failed: %s", url, code)
  end
end

local tasks = {}
for i, url in ipairs(arg) do
  if has_tasks then
    tasks[#tasks + 1] = task.spawn(fetch, i, url)
  else
    fetch(i, url)
  end
end
for _, t in ipairs(tasks) do t:join() end
for i = 1, #arg do print(results[i]) end
