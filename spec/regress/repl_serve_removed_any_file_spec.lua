-- repl.serve(path) replaces a stale socket file: when bind finds the path
-- taken and connect answers ECONNREFUSED, it removed the path and bound
-- again. But connect answers ECONNREFUSED for a regular file, a FIFO or a
-- directory just as for a socket nobody listens on, so a path given by
-- mistake (repl.serve("notes.txt")) deleted that file, or an empty
-- directory, and put the socket in its place. Now only a socket file
-- (lstat, through moonsock.posix._issock) is replaced; anything else raises
-- the bind's EADDRINUSE, as Python's bind does. Found writing
-- docs/security.md (issue 7).
local h = require "spec.support.helpers"
local repl = require "repl"

local q = h.shell_quote

describe("repl.serve on a path that is not a socket", function()
  local dir
  before_each(function() dir = h.tempdir() end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  it("leaves a regular file, a FIFO and an empty directory alone and raises EADDRINUSE", function()
    local file, fifo, sub = dir .. "/notes.txt", dir .. "/fifo", dir .. "/empty"
    local f = assert(io.open(file, "w"))
    f:write("keep me\n")
    f:close()
    assert(os.execute("mkfifo " .. q(fifo) .. " && mkdir " .. q(sub)))
    local want = h.python(string.format([[
import socket
try: socket.socket(socket.AF_UNIX).bind(%q)
except OSError as e: print(e)]], file))
    for _, path in ipairs {file, fifo, sub} do
      local ok, err = pcall(repl.serve, path)
      if ok then err:close() end
      assert.is_false(ok, path)
      assert.equal(want, tostring(err) .. "\n")
    end
    f = assert(io.open(file))
    assert.equal("keep me\n", f:read("a"))
    f:close()
    assert.equal("fifo\ndirectory\n", h.run("stat -c %F " .. q(fifo) .. " " .. q(sub)))
  end)
end)
