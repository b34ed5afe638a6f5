-- moonsock build. Runs under premake5 and under Debian's premake4
-- (`premake4 --file=premake5.lua gmake`): premake4 lacks workspace/filter,
-- premake5 lacks configuration(), so both are reached through `when`.
local premake4 = _PREMAKE_VERSION and _PREMAKE_VERSION:match("^4") ~= nil
if not workspace then workspace = solution end

local function when(cfg)
  if premake4 then configuration(cfg) else filter("configurations:" .. cfg) end
end
local function always()
  if premake4 then configuration("*") else filter({}) end
end

local lua_inc = os.getenv("LUA_INCDIR") or "/usr/include/lua5.4"
local lua_lib = os.getenv("LUA_LIB") or "lua5.4"
local sanitize = os.getenv("MOONSOCK_SANITIZE") == "1"
-- The sanitizer build lives beside the normal one (bin-asan/, lib-asan/,
-- build/obj-asan/): building one never overwrites the other's objects or
-- binaries, so scripts/test --sanitize can follow a normal run.
local function out(dir) return sanitize and (dir:gsub("^(%a+)", "%1-asan")) or dir end
local obj = sanitize and "build/obj-asan/" or "build/obj/"

local function common()
  language "C"
  includedirs { "include", "src", "build/gen", lua_inc }
  defines { "_GNU_SOURCE" }
  buildoptions { "-std=c11", "-Wall", "-Wextra", "-Werror", "-fPIC",
                 "-Wno-unused-parameter", "-fvisibility=hidden" }
  if sanitize then
    -- No recovery: the first undefined-behaviour report ends the process.
    buildoptions { "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                   "-fno-omit-frame-pointer" }
    linkoptions { "-fsanitize=address,undefined" }
    -- Not stripped: the reports name file and line.
    if premake4 then flags { "Symbols" } else symbols "On" end
  end
  when "debug"
    defines { "MOONSOCK_DEBUG" }
    buildoptions { "-g", "-O0" }
  when "release"
    defines { "NDEBUG" }
    buildoptions { "-g", "-O2" }
  always()
end

workspace "moonsock"
  configurations { "debug", "release" }
  location "build"

project "libmoonsock"
  kind "StaticLib"
  targetname "moonsock"
  targetdir(out "lib")
  objdir(obj .. "lib")
  common()
  files { "src/*.c", "build/gen/luamodules.c" }
  excludes { "src/main.c", "src/lineedit.c" }
  prebuildcommands { "cd .. && sh scripts/embed-lua build/gen/luamodules.c lua" }

-- The embedding library, with a versioned soname; it links Lua, as a host does.
project "libmoonsock-shared"
  kind "SharedLib"
  targetname "moonsock"
  targetextension ".so.0.1.0"
  targetdir(out "lib")
  objdir(obj .. "shared")
  common()
  files { "src/*.c", "build/gen/luamodules.c" }
  excludes { "src/main.c", "src/lineedit.c" }
  links { lua_lib, "uv", "ssl", "crypto", "m", "dl", "pthread" }
  linkoptions { "-Wl,-soname,libmoonsock.so.0", "-Wl,--no-undefined" }
  postbuildcommands { "cd ../" .. out "lib" .. " && ln -sf libmoonsock.so.0.1.0 libmoonsock.so.0 && ln -sf libmoonsock.so.0 libmoonsock.so" }

-- The Lua C module for stock lua5.4 (require "moonsock"). It must not link
-- Lua: the interpreter that loads it provides those symbols.
project "moonsock-lua"
  kind "SharedLib"
  targetname "moonsock"
  targetprefix ""
  targetdir(out "lib/lua/5.4")
  objdir(obj .. "luamod")
  common()
  files { "src/*.c", "build/gen/luamodules.c" }
  excludes { "src/main.c", "src/lineedit.c" }
  links { "uv", "ssl", "crypto", "m", "pthread" }

project "moonsock"
  kind "ConsoleApp"
  targetname "moonsock"
  targetdir(out "bin")
  objdir(obj .. "bin")
  common()
  -- The command uses moonsock's internals, which the libraries hide: it
  -- compiles the sources itself rather than linking either library (with
  -- lib/libmoonsock.so present, -lmoonsock would pick the shared one).
  files { "src/*.c", "build/gen/luamodules.c" }
  links { lua_lib, "uv", "ssl", "crypto", "m", "dl", "pthread", "edit" }
  linkoptions { "-Wl,-E" }

-- Programs that embed moonsock through include/moonsock.h, linked with the
-- static library as a host would: examples/embed/ -> bin/examples/, the C
-- tests spec/c/ -> bin/tests/ (run by spec/c/run). premake4 turns the
-- sibling link into -lmoonsock, which lib/libmoonsock.so would satisfy: the
-- archive is named first, and --as-needed drops the unused shared one.
local function embedding_host(name, dir, sources)
  project(name)
    kind "ConsoleApp"
    targetname(name)
    targetdir(out(dir))
    objdir(obj .. name)
    common()
    files(sources)
    links { "libmoonsock", lua_lib, "uv", "ssl", "crypto", "m", "dl", "pthread" }
    linkoptions { "-Wl,--as-needed", "../" .. out "lib" .. "/libmoonsock.a" }
    -- Symbols (not stripped), for valgrind's reports.
    if premake4 then flags { "Symbols" } else symbols "On" end
end

embedding_host("host_tcp", "bin/examples", { "examples/embed/host_tcp.c" })
embedding_host("host_poll", "bin/examples", { "examples/embed/host_poll.c" })
embedding_host("test_api", "bin/tests", { "spec/c/test_api.c", "spec/c/tap.h" })
embedding_host("test_hostloop", "bin/tests", { "spec/c/test_hostloop.c", "spec/c/tap.h" })
embedding_host("test_lifecycle", "bin/tests", { "spec/c/test_lifecycle.c", "spec/c/tap.h" })
embedding_host("test_alloc", "bin/tests", { "spec/c/test_alloc.c", "spec/c/tap.h" })
