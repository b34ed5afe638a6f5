-- LuaSec's C module ssl.context: moonsock has none, so that nothing loads
-- Debian's ssl.so (its calls would block the whole process). LuaSec's API
-- is on moonsock's own require "ssl" (ssl.wrap, ssl.newcontext).
error("ssl.context: LuaSec's blocking C library is not loaded by moonsock; "
  .. "use require \"ssl\" (ssl.wrap, ssl.newcontext)", 2)
