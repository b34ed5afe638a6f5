/*
 * The makefile reader (lua/moonsock/makefile.lua) against Lua's own io
 * library: the input's bytes go into one end of a socketpair, which is then
 * shut down, and are read from the other end through sock:makefile("rb" or
 * "r", with a buffer size from the input) by a sequence of read formats
 * ("l", "L", "n", "a", counts, 0, several at once, the "*l" spellings),
 * lines(...) loops, readline([limit]) and readlines([hint]). The same bytes
 * sit in a plain file read by liolib.c's g_read with the same formats, and
 * by a model of Python's readline/readlines: every call must give the same
 * values (numbers of the same subtype) and leave the same bytes unread.
 *
 * Input: byte 0 the mode and buffering, byte 1 how many operations, then one
 * byte per operation (a few take the next bytes as their formats); the rest
 * is the stream's content (at most 64 KiB, well within a socket's buffer, so
 * sendall never waits).
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_DATA 65536

static int memfile_close(lua_State *L) {
  luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  return luaL_fileresult(L, fclose(p->f) == 0, NULL);
}

/* fz_memfile(s) -> a Lua io file reading s. One memfd is rewritten for each
 * input, and each file reads it through its own dup, from offset 0. */
static int fz_memfile(lua_State *L) {
  static int fd = -1;
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  if (fd < 0 && (fd = memfd_create("fuzz_makefile", 0)) < 0) fz_abort("memfd_create failed");
  if (ftruncate(fd, 0) != 0 || (n && pwrite(fd, s, n, 0) != (ssize_t)n) || lseek(fd, 0, SEEK_SET) != 0)
    fz_abort("cannot fill the memfd");
  luaL_Stream *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->closef = NULL; /* closed until fdopen succeeds, as liolib's newprefile */
  luaL_setmetatable(L, LUA_FILEHANDLE);
  int dup_fd = dup(fd);
  p->f = dup_fd < 0 ? NULL : fdopen(dup_fd, "rb");
  if (!p->f) fz_abort("cannot open the memfd");
  p->closef = memfile_close;
  return 1;
}

static const char checker[] =
  "local socket = require 'socket'\n"
  "local fuzz = require 'fuzz'\n"
  "local q, check = fuzz.q, fuzz.check\n"
  "local BUFFERING = {false, 0, 1, 2, 3, 5, 8, 64, 8192, -1}\n"
  "local NAMES = {'l', 'L', 'n', 'a'}\n"
  "\n"
  // Python's readline(limit) and readlines(hint), on the reference file.
  "local function ref_readline(ref, limit)\n"
  "  if limit ~= nil and limit < 0 then limit = nil end\n"
  "  local out = {}\n"
  "  while limit == nil or #out < limit do\n"
  "    local c = ref:read(1)\n"
  "    if not c then break end\n"
  "    out[#out + 1] = c\n"
  "    if c == '\\n' then break end\n"
  "  end\n"
  "  return table.concat(out)\n"
  "end\n"
  "local function ref_readlines(ref, hint)\n"
  "  local lines, total = {}, 0\n"
  "  while true do\n"
  "    local line = ref_readline(ref)\n"
  "    if line == '' then break end\n"
  "    lines[#lines + 1] = line\n"
  "    total = total + #line\n"
  "    if hint and hint > 0 and total > hint then break end\n"
  "  end\n"
  "  return lines\n"
  "end\n"
  "\n"
  "local function show(t)\n"
  "  local parts = {}\n"
  "  for i = 1, t.n do\n"
  "    local v = t[i]\n"
  "    parts[i] = type(v) == 'string' and q(v) or type(v) == 'number' and (math.type(v) .. ' ' .. tostring(v))\n"
  "      or tostring(v)\n"
  "  end\n"
  "  return '(' .. table.concat(parts, ', ') .. ')'\n"
  "end\n"
  "local function same(a, b)\n"
  "  if a.n ~= b.n then return false end\n"
  "  for i = 1, a.n do\n"
  "    local x, y = a[i], b[i]\n"
  "    if type(x) == 'table' and type(y) == 'table' then\n"
  "      if #x ~= #y then return false end\n"
  "      for j = 1, #x do if x[j] ~= y[j] then return false end end\n"
  "    elseif x ~= y or math.type(x) ~= math.type(y) then\n"
  "      return false\n"
  "    end\n"
  "  end\n"
  "  return true\n"
  "end\n"
  "\n"
  // One format from a byte.
  "local function format_of(x)\n"
  "  local k = x % 8\n"
  "  if k < 4 then return NAMES[k + 1] end\n"
  "  if k == 4 then return x >> 3 end\n"
  "  if k == 5 then return 1 << (x >> 4) end\n"
  "  if k == 6 then return '*' .. NAMES[(x >> 3) % 4 + 1] end\n"
  "  return 0\n"
  "end\n"
  "\n"
  // The operations: each returns what the socket file gives and what the
  // reference gives, and a text that names the call.
  "local function operation(x, nextbyte)\n"
  "  local k, arg = x % 16, x >> 4\n"
  "  if k <= 5 or k == 12 then\n"
  "    local fmts = {n = 1}\n"
  "    if k == 5 then\n"
  "      fmts.n = arg % 4 + 2\n"
  "      for i = 1, fmts.n do fmts[i] = format_of(nextbyte()) end\n"
  "    elseif k == 4 then\n"
  "      fmts[1] = arg\n"
  "    elseif k == 12 then\n"
  "      fmts[1] = 1 << arg\n"
  "    else\n"
  "      fmts[1] = (arg % 2 == 0 and '' or '*') .. NAMES[k % 4 + 1]\n"
  "    end\n"
  "    local function call(f) return table.pack(f:read(table.unpack(fmts, 1, fmts.n))) end\n"
  "    return call, call, 'read' .. show(fmts)\n"
  "  elseif k == 6 then\n"
  "    local call = function(f) return table.pack(f:read()) end\n"
  "    return call, call, 'read()'\n"
  "  elseif k == 7 then\n"
  "    return function(f) return table.pack(f:readline()) end,\n"
  "      function(ref) return table.pack(ref_readline(ref)) end, 'readline()'\n"
  "  elseif k == 8 then\n"
  "    local limit = arg - 4\n"
  "    return function(f) return table.pack(f:readline(limit)) end,\n"
  "      function(ref) return table.pack(ref_readline(ref, limit)) end, 'readline(' .. limit .. ')'\n"
  "  elseif k == 9 then\n"
  "    local hint = arg * 7 - 1\n"
  "    return function(f) return table.pack(f:readlines(hint)) end,\n"
  "      function(ref) return table.pack(ref_readlines(ref, hint)) end, 'readlines(' .. hint .. ')'\n"
  "  else\n"
  // lines(...): at most 64 rounds (lines(0) never ends before EOF).
  "    local fmts = {n = 0}\n"
  "    if k == 10 then fmts[1], fmts.n = format_of(arg * 16 + arg), 1 end\n"
  "    if k == 11 then\n"
  "      fmts.n = arg % 3 + 1\n"
  "      for i = 1, fmts.n do fmts[i] = format_of(nextbyte()) end\n"
  "    end\n"
  "    local function call(f)\n"
  "      local out = {n = 0}\n"
  "      local it = f:lines(table.unpack(fmts, 1, fmts.n))\n"
  "      for _ = 1, 64 do\n"
  "        local r = table.pack(it())\n"
  "        out.n = out.n + 1\n"
  "        out[out.n] = show(r)\n"
  "        if r.n == 0 then break end\n"
  "      end\n"
  "      return out\n"
  "    end\n"
  "    return call, call, 'lines' .. show(fmts)\n"
  "  end\n"
  "end\n"
  "\n"
  "return function(mode, buffering, ops, data)\n"
  "  buffering = BUFFERING[buffering % #BUFFERING + 1] or nil\n"
  "  local a, b = socket.socketpair()\n"
  "  a:sendall(data)\n"
  "  a:shutdown(socket.SHUT_WR)\n"
  "  local f = b:makefile(mode, buffering)\n"
  "  local ref = fz_memfile(data)\n"
  "  local done = {}\n"
  "  local i = 1\n"
  "  local function nextbyte()\n"
  "    i = i + 1\n"
  "    return ops:byte(i - 1) or 0\n"
  "  end\n"
  "  while i <= #ops do\n"
  "    local call, ref_call, what = operation(nextbyte(), nextbyte)\n"
  "    done[#done + 1] = what\n"
  "    local got, want = call(f), ref_call(ref)\n"
  "    check(same(got, want), 'makefile(%s, %s) on %s: after %s: %s, Lua io %s', q(mode),\n"
  "      tostring(buffering), q(data), table.concat(done, ', '), show(got), show(want))\n"
  "  end\n"
  "  local rest, ref_rest = f:read('a'), ref:read('a')\n"
  "  check(rest == ref_rest, 'makefile(%s, %s) on %s: after %s: %s left, Lua io %s', q(mode),\n"
  "    tostring(buffering), q(data), table.concat(done, ', '), q(rest), q(ref_rest))\n"
  "  f:close()\n"
  "  ref:close()\n"
  "  b:close()\n"
  "  a:close()\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ref = LUA_NOREF;
  lua_State *L = fz_state();
  if (ref == LUA_NOREF) {
    lua_register(L, "fz_memfile", fz_memfile);
    ref = fz_chunk(L, "=fuzz_makefile", checker);
  }
  fz_input in = {data, size};
  uint8_t b0 = fz_byte(&in);
  size_t nops = fz_byte(&in) % 16;
  if (nops > in.n) nops = in.n;
  size_t n = in.n - nops;
  if (n > MAX_DATA) n = MAX_DATA;
  fz_push(L, ref);
  lua_pushstring(L, b0 & 1 ? "r" : "rb");
  lua_pushinteger(L, b0 >> 1);
  lua_pushlstring(L, (const char *)in.p, nops);
  lua_pushlstring(L, (const char *)in.p + nops, n);
  fz_call(L, 4);
  fz_done(L);
  return 0;
}
