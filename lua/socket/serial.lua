-- LuaSocket's optional socket.serial opens a serial device through its own
-- C object; moonsock gives no such object (its sockets are sockets), and
-- Debian's socket/serial.so would block the whole process: a clear refusal.
error("socket.serial is not available under moonsock: open the device with io.open, " ..
  "or use LuaSocket under a stock lua5.4", 2)
