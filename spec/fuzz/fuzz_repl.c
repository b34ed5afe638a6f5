/*
 * The REPL's reading of what was typed (lua/repl.lua): compile(code), which
 * says whether a statement is complete, and complete(text), the tab
 * completer. src/cli/repl.c has no logic of its own here: its loadline calls
 * repl.compile and joins continuation lines with "\n", as a repl.serve
 * session does (Session:line); both are what the line mode below replays.
 *
 * compile must never raise, and must agree with Lua itself: a chunk that
 * luaL_loadbufferx accepts as text is never incomplete and always compiles;
 * "incomplete" means Lua's own error ends at <eof> (lua.c's rule); a
 * function only comes back for code that loads as it is or after "return ".
 * complete must return a list of strings that start with what was typed.
 * No compiled code is ever run.
 *
 * Input: byte 0 picks the mode: the whole input as one chunk, as lines fed
 * one at a time with the pending text carried over, or the completer.
 */
#include <string.h>

#include "fuzz.h"

/* fz_load(code) -> true | false, message: Lua's verdict, text chunks only. */
static int fz_load(lua_State *L) {
  size_t n;
  const char *code = luaL_checklstring(L, 1, &n);
  if (luaL_loadbufferx(L, code, n, "=stdin", "t") == LUA_OK) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  return 2;
}

static const char checker[] =
  "local repl = require 'repl'\n"
  "local fuzz = require 'fuzz'\n"
  "local q, check, try = fuzz.q, fuzz.check, fuzz.try\n"
  "local nothing = fuzz.allow({}, {})\n"
  "local env = repl.new_env()\n"
  "\n"
  "local function compile(code)\n"
  "  local ok, fn, err, incomplete = try(nothing, repl.compile, code, {})\n"
  "  check(ok, 'compile(%s) raised', q(code))\n"
  "  local src = code:sub(1, 1) == '=' and 'return ' .. code:sub(2) or code\n"
  "  local loads, msg = fz_load(code)\n"
  "  if loads then\n"
  "    check(type(fn) == 'function', 'compile(%s): Lua loads it, compile says %s (incomplete: %s)',\n"
  "      q(code), q(err), tostring(incomplete))\n"
  "  end\n"
  "  if type(fn) == 'function' then\n"
  "    check(fz_load('return ' .. src) or fz_load(src), 'compile(%s) made a function of what Lua refuses', q(code))\n"
  "    return 'done'\n"
  "  end\n"
  "  check(fn == nil and type(err) == 'string', 'compile(%s) returned %s, %s', q(code), tostring(fn), tostring(err))\n"
  "  local _, want = fz_load(src)\n"
  "  check(err == want, 'compile(%s): message %s, Lua %s', q(code), q(err), q(want))\n"
  "  check(incomplete == (want:sub(-5) == '<eof>'), 'compile(%s): incomplete %s for %s', q(code),\n"
  "    tostring(incomplete), q(want))\n"
  "  return incomplete and 'more' or 'error'\n"
  "end\n"
  "\n"
  // Lines as Session:line and src/cli/repl.c's loadline take them.
  "local function lines(text)\n"
  "  local pending\n"
  "  for line in (text .. '\\n'):gmatch('([^\\n]*)\\n') do\n"
  "    local code = pending and pending .. '\\n' .. line or line\n"
  "    if compile(code) == 'more' then pending = code else pending = nil end\n"
  "  end\n"
  "end\n"
  "\n"
  "local function completions(text)\n"
  "  local ok, out = try(nothing, repl.complete, text, env)\n"
  "  check(ok and type(out) == 'table', 'complete(%s) failed', q(text))\n"
  "  local head = text:match('^(.*[%.:])') or ''\n"
  "  for i, c in ipairs(out) do\n"
  "    check(type(c) == 'string' and c:sub(1, #head) == head, 'complete(%s)[%d] = %s', q(text), i, q(c))\n"
  "  end\n"
  "end\n"
  "\n"
  "return function(mode, text)\n"
  "  if mode == 0 then compile(text)\n"
  "  elseif mode == 1 then lines(text)\n"
  "  else completions(text) end\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ref = LUA_NOREF;
  lua_State *L = fz_state();
  if (ref == LUA_NOREF) {
    lua_register(L, "fz_load", fz_load);
    ref = fz_chunk(L, "=fuzz_repl", checker);
  }
  fz_input in = {data, size};
  int mode = fz_byte(&in) % 3;
  fz_push(L, ref);
  lua_pushinteger(L, mode);
  lua_pushlstring(L, (const char *)in.p, in.n);
  fz_call(L, 2);
  fz_done(L);
  return 0;
}
