-- Cooperative standard streams, installed at start-up (moonsock.boot): when
-- stdin is a pipe, FIFO, terminal or socket, io.read, io.lines and
-- io.stdin's read and lines park only the calling task until bytes come;
-- when stdout or stderr is one, io.write, print and their write method park
-- only the calling task while the fd is full. A regular file (or a block
-- device) stays with liolib, blocking as in stock Lua: reading one never
-- waits for another process.
--
-- io.stdin, io.stdout and io.stderr stay liolib's files (io.type says
-- "file"): liolib's functions are wrapped in C (moonsock.core.stream), and a
-- file other than a cooperative standard stream goes straight to liolib's
-- function, with the same errors. Reads go through a buffered file of
-- moonsock.makefile over fd 0, so Lua's formats are moonsock.fileio's;
-- writes fill C's own stdout/stderr buffer as liolib's do, and what does
-- not fit (or print's line) is written out cooperatively after it, which
-- keeps print, io.write and C's writes in order.
local stream = require "moonsock.core.stream"
local makefile = require "moonsock.makefile"
local fileio = require "moonsock.fileio"
local errors = require "moonsock.errors"

local select, unpack = select, table.unpack

local M = {}

local MAXARGLINE = 250 -- liolib.c: the most formats io.lines takes

-- What makefile needs of a socket to read fd 0: recv.
local function reader_source(is_socket)
  return {
    recv = function(_, n) return stream.read(0, n, is_socket) end,
    fileno = function() return 0 end,
  }
end

-- Only the format letters matter to the lines iterator's check.
local format_names = {n = true, l = true, L = true, a = true}

-- install() wraps liolib's functions once; later calls do nothing.
local installed = false

function M.install()
  if installed then return end
  installed = true
  local stdin, stdout, stderr = io.stdin, io.stdout, io.stderr
  local readable, writable = {}, {}

  local kind0 = stream.kind(0)
  local infile
  if kind0 ~= "file" then
    readable[stdin] = true
    infile = makefile.new(reader_source(kind0 == "socket"), "r")
  end
  for fd, f in pairs {[1] = stdout, [2] = stderr} do
    local kind = stream.kind(fd)
    if kind ~= "file" then writable[f] = fd | (kind == "socket" and stream.SOCKET or 0) end
  end

  local function read(_, ...) return infile:read(...) end

  -- liolib checks the formats of a lines iterator at each call, naming the
  -- iterator and counting from #2, and their number at once.
  local function lines_of(method)
    return function(_, ...)
      local n = select("#", ...)
      if n > MAXARGLINE then
        errors.argerror(method and MAXARGLINE + 1 or MAXARGLINE + 2, "lines", "too many arguments")
      end
      local fmts = {n = n, ...}
      return function()
        fileio.parse_formats_from(format_names, "for iterator", 2, unpack(fmts, 1, fmts.n))
        return fileio.lines_result(infile:read(unpack(fmts, 1, fmts.n)))
      end
    end
  end

  -- luacheck: push ignore 121 122
  local methods = getmetatable(stdin).__index
  methods.read = stream.wrap(methods.read, "method", readable, nil, read)
  methods.lines = stream.wrap(methods.lines, "method", readable, nil, lines_of(true))
  methods.write = stream.wrap(methods.write, "method", writable)
  io.read = stream.wrap(io.read, "input", readable, io.input, read)
  io.lines = stream.wrap(io.lines, "lines", readable, io.input, lines_of(false))
  io.write = stream.wrap(io.write, "output", writable, io.output)
  print = stream.wrap(print, "print", writable, stdout)
  -- luacheck: pop
end

return M
