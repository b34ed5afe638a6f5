-- The Lua C module of moonsock for LuaRocks users: require "moonsock" from a
-- stock Lua 5.4. Build it from a checkout with
--   luarocks make moonsock-0.1.0-1.rockspec
-- (the embedding library, its header and the moonsock command come with
-- scripts/install instead).
rockspec_format = "3.0"
package = "moonsock"
version = "0.1.0-1"
source = {
  -- moonsock has no published repository: luarocks make builds the checkout
  -- it runs in, which is the only source this rockspec is meant for.
  url = "git+file://.",
}
description = {
  summary = "Python's socket module for Lua 5.4, on a libuv loop",
  detailed = [[
moonsock gives Lua Python 3's socket module, one to one (names, meanings,
errors), with the blocking calls of a task parking only that task on a libuv
loop. require "moonsock" opens its modules (socket, task, select, selectors,
socketserver, ...) into a stock Lua 5.4; moonsock.run() runs the spawned
tasks to completion.
]],
  license = "MIT",
  labels = { "networking", "socket", "libuv", "coroutines" },
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
external_dependencies = {
  LIBUV = { header = "uv.h", library = "uv" },
}
build = {
  type = "command",
  -- The same sources as premake5.lua's moonsock-lua project: src/*.c (the
  -- command's own are under src/cli/), and lua/ compiled in.
  build_command = [[
sh scripts/embed-lua build/gen/luamodules.c lua &&
mkdir -p build/rock &&
$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE -DNDEBUG -fvisibility=hidden \
  -Iinclude -Isrc -Ibuild/gen -I$(LUA_INCDIR) -I$(LIBUV_INCDIR) $(LIBFLAG) \
  -o build/rock/moonsock.so \
  src/*.c build/gen/luamodules.c \
  -L$(LIBUV_LIBDIR) -luv -lssl -lcrypto -lm -lpthread
]],
  install = {
    lib = { moonsock = "build/rock/moonsock.so" },
  },
}
