-- LuaSocket's C core under its own name: the same table as require
-- "socket", so that nothing loads Debian's socket/core.so (which would block
-- the whole process).
return require "socket"
