/*
 * The shared part of the fuzz targets (see fuzz.h). Linked into every
 * target; scripts/fuzz builds it with the same sanitizer flags as the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "fuzz.h"
#include "moonsock.h"

/* ---- Lua line coverage ----
 *
 * The parsers under test are mostly Lua code, which libFuzzer cannot see:
 * liblua comes from Debian, uninstrumented, so every input would look
 * alike. A line hook hashes each (chunk, line) step together with the step
 * before it, AFL-style, into 8-bit counters in the section libFuzzer scans
 * as extra counters; a new line, or a known line reached from a new one, is
 * then new coverage. Chunks are told apart by their source string, which
 * Lua keeps at one address for as long as the chunk lives. */

#define FZ_COUNTERS (1u << 16)

__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t fz_counters[FZ_COUNTERS];
static uint32_t fz_prev;

static void fz_hook(lua_State *L, lua_Debug *ar) {
  if (!lua_getinfo(L, "S", ar)) return;
  uint64_t h = (uint64_t)(uintptr_t)ar->source * 0x9E3779B97F4A7C15ull ^
               (uint64_t)(uint32_t)ar->currentline * 0xC2B2AE3D27D4EB4Full;
  uint32_t cur = (uint32_t)(h >> 40);
  uint8_t *c = &fz_counters[(cur ^ fz_prev) & (FZ_COUNTERS - 1)];
  if (*c != 255) (*c)++;
  fz_prev = cur >> 1;
}

/* ---- the "fuzz" module the checkers use ----
 *
 * try(allowed, f, ...): f's results after true, or false and the error if
 *   allowed(err) says the error is one the API may raise for such input;
 *   any other error becomes a finding carrying the traceback of where it
 *   was raised (the traceback is lost once the error unwinds).
 * allow(classes, patterns): a predicate for try, true for instances of the
 *   named moonsock.errors classes (and subclasses) and for string errors
 *   matching one of the Lua patterns (argument errors).
 * check(cond, fmt, ...): a finding unless cond.
 * q(s): s quoted with every byte outside printable ASCII as \xNN, for
 *   messages a reader can paste into a spec. */
static const char fz_prelude[] =
  "local errors = require 'moonsock.errors'\n"
  "local M = {}\n"
  "local function describe(e)\n"
  "  local ok, s = pcall(errors.describe, e)\n"
  "  if ok and type(s) == 'string' then return s end\n"
  "  return '(a ' .. type(e) .. ' error)'\n"
  "end\n"
  "M.describe = describe\n"
  "function M.q(s)\n"
  "  if type(s) ~= 'string' then return tostring(s) end\n"
  "  return '\"' .. s:gsub('.', function(c)\n"
  "    local b = c:byte()\n"
  "    if b < 32 or b > 126 or c == '\"' or c == '\\\\' then return string.format('\\\\x%02x', b) end\n"
  "  end) .. '\"'\n"
  "end\n"
  "function M.allow(classes, patterns)\n"
  "  local cls = {}\n"
  "  for i, name in ipairs(classes or {}) do\n"
  "    cls[i] = errors[name] or error('fuzz.allow: no error class ' .. name, 2)\n"
  "  end\n"
  "  patterns = patterns or {}\n"
  "  return function(e)\n"
  "    if type(e) == 'string' then\n"
  "      for _, p in ipairs(patterns) do if e:find(p) then return true end end\n"
  "      return false\n"
  "    end\n"
  "    for _, c in ipairs(cls) do if c:matches(e) then return true end end\n"
  "    return false\n"
  "  end\n"
  "end\n"
  "function M.try(allowed, f, ...)\n"
  "  local tb\n"
  "  local function handler(e)\n"
  "    if not allowed(e) then tb = debug.traceback(describe(e), 2) end\n"
  "    return e\n"
  "  end\n"
  "  local r = table.pack(xpcall(f, handler, ...))\n"
  "  if r[1] then return table.unpack(r, 1, r.n) end\n"
  "  if not allowed(r[2]) then\n"
  "    error('unexpected error: ' .. (tb or describe(r[2])), 0)\n"
  "  end\n"
  "  return false, r[2]\n"
  "end\n"
  "function M.check(cond, fmt, ...)\n"
  "  if not cond then error('check failed: ' .. string.format(fmt, ...), 2) end\n"
  "  return cond\n"
  "end\n"
  "return M\n";

void fz_abort(const char *what) {
  fprintf(stderr, "fuzz finding: %s\n", what);
  fflush(stderr);
  abort();
}

static int fz_open_prelude(lua_State *L) {
  if (luaL_loadbuffer(L, fz_prelude, sizeof fz_prelude - 1, "=fuzz") != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  return 1;
}

lua_State *fz_state(void) {
  static lua_State *L;
  if (L) return L;
  L = luaL_newstate();
  if (!L) fz_abort("luaL_newstate: out of memory");
  luaL_openlibs(L);
  if (moonsock_open(L, NULL) != 0) fz_abort(lua_tostring(L, -1));
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, fz_open_prelude);
  lua_setfield(L, -2, "fuzz");
  lua_pop(L, 1);
  /* Coroutines made later copy the hook from the thread that makes them. */
  lua_sethook(L, fz_hook, LUA_MASKLINE, 0);
  return L;
}

/* The message handler of every call: the error as Python prints it (or the
 * string), with Lua's traceback down to where it was raised. */
static int fz_msgh(lua_State *L) {
  const char *msg = luaL_tolstring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int fz_chunk(lua_State *L, const char *name, const char *code) {
  lua_pushcfunction(L, fz_msgh);
  if (luaL_loadbuffer(L, code, strlen(code), name) != LUA_OK) fz_abort(lua_tostring(L, -1));
  if (lua_pcall(L, 0, 1, -2) != LUA_OK) fz_abort(lua_tostring(L, -1));
  if (!lua_isfunction(L, -1)) fz_abort("a target chunk must return its checker function");
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  return ref;
}

void fz_push(lua_State *L, int ref) {
  fz_prev = 0; /* each input's first line is an edge from nowhere */
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
}

void fz_call(lua_State *L, int nargs) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, fz_msgh);
  lua_insert(L, base);
  if (lua_pcall(L, nargs, 0, base) != LUA_OK) fz_abort(lua_tostring(L, -1));
  lua_remove(L, base);
}

void fz_done(lua_State *L) {
  static unsigned long runs;
  if (lua_gettop(L) != 0) fz_abort("the harness left values on the Lua stack");
  /* Closed sockets finish closing on a turn of the loop; without turns
   * their handles would pile up over millions of inputs. */
  if (moonsock_run_nowait(L) < 0) fz_abort(moonsock_lasterror(L));
  if (++runs % 2000 == 0) lua_gc(L, LUA_GCCOLLECT);
}

uint8_t fz_byte(fz_input *in) {
  if (in->n == 0) return 0;
  in->n--;
  return *in->p++;
}

uint64_t fz_u64(fz_input *in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)fz_byte(in) << (8 * i);
  return v;
}
