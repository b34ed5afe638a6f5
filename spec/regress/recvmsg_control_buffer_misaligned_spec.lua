-- recvmsg placed the ancillary-data buffer right after the data buffer, so
-- for a bufsize not a multiple of 8 struct cmsghdr was misaligned (UBSan:
-- "member access within misaligned address ... struct cmsghdr"). Found by
-- the sanitizer run. The data and the fds must still arrive for odd sizes.
local socket = require "socket"

describe("recvmsg with ancillary data", function()
  it("works for data buffers of every size from 1 to 9", function()
    for n = 1, 9 do
      local a, b = socket.socketpair()
      local pa, pb = socket.socketpair()
      socket.send_fds(a, {string.rep("x", n)}, {pa:fileno()})
      local msg, fds = socket.recv_fds(b, n, 1)
      assert.are.equal(string.rep("x", n), msg)
      assert.are.equal(1, #fds)
      local copy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, fds[1])
      copy:sendall("via the copy")
      assert.are.equal("via the copy", pb:recv(100))
      for _, s in ipairs {a, b, pa, pb, copy} do s:close() end
    end
  end)
end)
