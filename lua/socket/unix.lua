-- LuaSocket's optional socket.unix module (stream and datagram objects on
-- UNIX sockets), so that nothing loads Debian's socket/unix.so.
return require("moonsock.luasocket").unix()
