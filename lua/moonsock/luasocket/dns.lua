-- socket.dns: LuaSocket's resolver functions and result shapes, over the
-- Python resolver (which runs off the loop thread and parks only the task).
local psocket = require("moonsock.luasocket.python").get()
local core = require "moonsock.luasocket.core"
local errors = require "moonsock.errors"

local M = {}

-- gethostbyname's h_errno texts (LuaSocket's socket_hoststrerror); the
-- Python resolver reports a missing name as getaddrinfo's EAI_NONAME.
local HOST_NOT_FOUND = "host not found"
local function host_error(err)
  if errors.gaierror:matches(err) then
    if err.errno == psocket.EAI_NONAME or err.errno == psocket.EAI_NODATA then return HOST_NOT_FOUND end
    return core.strerror(err)
  end
  if errors.herror:matches(err) then
    if err.errno == 1 then return HOST_NOT_FOUND end
    return tostring(err.strerror)
  end
  return core.strerror(err)
end

local check_string = core.checkstring

local function resolved(name, aliases, ips)
  local alias, ip = {}, {}
  for i, a in ipairs(aliases) do alias[i] = a end
  for i, a in ipairs(ips) do ip[i] = a end
  return {name = name, alias = alias, ip = ip}
end

-- toip(name): the first address and {name=, alias={}, ip={}}.
-- gethostbyname, or for a dotted IPv4 address gethostbyaddr, as
-- LuaSocket's inet_gethost does.
local function gethost(name)
  if pcall(psocket.inet_aton, name) and name:match("^[%d.]+$") then
    local ok, host, aliases, ips = pcall(psocket.gethostbyaddr, name)
    if ok then return ok, host, aliases, ips end
  end
  return pcall(psocket.gethostbyname_ex, name)
end

function M.toip(name)
  name = check_string(name, 1)
  local ok, host, aliases, ips = gethost(name)
  if not ok then return nil, host_error(host) end
  return ips[1], resolved(host, aliases, ips)
end

-- tohostname(address): the canonical name and the same table.
function M.tohostname(address)
  address = check_string(address, 1)
  local ok, host, aliases, ips = gethost(address)
  if not ok then return nil, host_error(host) end
  return host, resolved(host, aliases, ips)
end

function M.gethostname()
  local ok, name = pcall(psocket.gethostname)
  if not ok then return nil, core.strerror(name) end
  return name
end

local FAMILY = {[psocket.AF_INET] = "inet", [psocket.AF_INET6] = "inet6"}

-- getaddrinfo(host): {{family = "inet"|"inet6", addr = "..."}, ...}.
function M.getaddrinfo(host)
  host = check_string(host, 1)
  if host == "*" then host = nil end
  local ok, infos = pcall(psocket.getaddrinfo, host, nil, 0, psocket.SOCK_STREAM)
  if not ok then return nil, core.strerror(infos) end
  local out = {}
  for _, info in ipairs(infos) do
    out[#out + 1] = {family = FAMILY[info[1]] or "unknown", addr = info[5][1]}
  end
  return out
end

-- getnameinfo(host[, port]): the names of every address host has (nil if
-- host is nil) and the service name of port.
function M.getnameinfo(host, port)
  if host ~= nil then host = check_string(host, 1) end
  if port ~= nil then port = check_string(port, 2) end
  if host == nil and port == nil then error("host and serv cannot be both nil", 2) end
  local ok, infos = pcall(psocket.getaddrinfo, host, port, 0, psocket.SOCK_STREAM)
  if not ok then return nil, core.strerror(infos) end
  local names, service = {}, nil
  for _, info in ipairs(infos) do
    local okn, name, serv = pcall(psocket.getnameinfo, info[5], 0)
    if not okn then return nil, core.strerror(name) end
    if host then names[#names + 1] = name end
    service = serv
  end
  if port == nil then return names end
  return names, service
end

return M
