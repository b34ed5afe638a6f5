/*
 * urllib.parse (lua/urllib/parse.lua) on any text: urlparse, urlsplit,
 * urljoin, urldefrag, parse_qs, parse_qsl, unquote, unquote_plus, and the
 * quote round trips. Each must give its result or raise ValueError (Python's
 * UnicodeErrors are ValueErrors), as Python's module does; anything else out
 * of the module is a finding. Results must hold together: result fields are
 * strings, the derived fields read (port may raise ValueError), geturl and
 * urlunsplit give a string, query lists hold (name, value) pairs of strings;
 * unquote(quote(s)) == s for UTF-8 text and, with surrogateescape, for any
 * bytes (quote_plus and unquote_plus too); quote's output holds only the
 * characters it keeps.
 *
 * Input: byte 0 the function, byte 1 its flags (allow_fragments, the
 * encoding, the error handler...), byte 2 the length of a second string
 * taken from the front of the rest (urlparse's default scheme, parse_qs's
 * separator, urljoin's base, quote's safe characters).
 */
#include "fuzz.h"

static const char checker[] =
  "local parse = require 'urllib.parse'\n"
  "local fuzz = require 'fuzz'\n"
  "local q, check, try = fuzz.q, fuzz.check, fuzz.try\n"
  "local allowed = fuzz.allow({'ValueError'})\n"
  "local ENCODINGS = {'utf-8', 'latin-1', 'ascii', 'UTF8'}\n"
  "local HANDLERS = {'replace', 'strict', 'ignore', 'surrogateescape', 'backslashreplace'}\n"
  "\n"
  "local function check_result(r, n, what)\n"
  "  check(#r == n, '%s: %d fields', what, #r)\n"
  "  for i = 1, n do check(type(r[i]) == 'string', '%s: field %d is a %s', what, i, type(r[i])) end\n"
  "  for _, k in ipairs {'username', 'password', 'hostname'} do\n"
  "    local v = r[k]\n"
  "    check(v == nil or type(v) == 'string', '%s: %s is a %s', what, k, type(v))\n"
  "  end\n"
  "  local ok, port = try(allowed, function() return r.port end)\n"
  "  check(not ok or port == nil or math.type(port) == 'integer' and port >= 0 and port <= 65535,\n"
  "    '%s: port %s', what, tostring(port))\n"
  "  check(type(r:geturl()) == 'string', '%s: geturl', what)\n"
  "  check(type(tostring(r)) == 'string', '%s: tostring', what)\n"
  "end\n"
  "\n"
  "local function split(flags, s, extra)\n"
  "  local allow = flags & 1 == 0\n"
  "  local f = flags & 2 == 0 and parse.urlsplit or parse.urlparse\n"
  "  local n = flags & 2 == 0 and 5 or 6\n"
  "  local what = string.format('%s(%s, %s, %s)', n == 5 and 'urlsplit' or 'urlparse', q(s), q(extra), tostring(allow))\n"
  "  local ok, r = try(allowed, f, s, extra, allow)\n"
  "  if not ok then return end\n"
  "  check_result(r, n, what)\n"
  "  local u = (n == 5 and parse.urlunsplit or parse.urlunparse)(r)\n"
  "  check(type(u) == 'string', '%s: unsplit', what)\n"
  "  local ok2, d = try(allowed, parse.urldefrag, s)\n"
  "  if ok2 then check(type(d.url) == 'string' and type(d.fragment) == 'string', 'urldefrag(%s)', q(s)) end\n"
  "end\n"
  "\n"
  "local function qs(flags, s, sep)\n"
  "  local opts = {keep_blank_values = flags & 1 ~= 0, strict_parsing = flags & 2 ~= 0,\n"
  "    encoding = ENCODINGS[(flags >> 2) % 4 + 1], errors = HANDLERS[(flags >> 4) % 5 + 1]}\n"
  "  if sep ~= '' then opts.separator = sep end\n"
  "  if flags & 128 ~= 0 then opts.max_num_fields = #sep end\n"
  "  local what = string.format('parse_qsl(%s, sep %s, flags %d)', q(s), q(sep), flags)\n"
  "  local ok, l = try(allowed, parse.parse_qsl, s, opts)\n"
  "  if ok then\n"
  "    for i, p in ipairs(l) do\n"
  "      check(#p == 2 and type(p[1]) == 'string' and type(p[2]) == 'string', '%s: item %d', what, i)\n"
  "    end\n"
  "  end\n"
  "  local ok2, d = try(allowed, parse.parse_qs, s, opts)\n"
  "  check(ok == ok2, '%s: parse_qs and parse_qsl disagree', what)\n"
  "  if ok2 then\n"
  "    local count = 0\n"
  "    for _, v in pairs(d) do count = count + #v end\n"
  "    check(count == #l, '%s: parse_qs holds %d values, parse_qsl %d', what, count, #l)\n"
  "    check(type(tostring(d)) == 'string', '%s: tostring', what)\n"
  "  end\n"
  "end\n"
  "\n"
  "local function unq(flags, s)\n"
  "  local enc, errs = ENCODINGS[flags % 4 + 1], HANDLERS[(flags >> 2) % 5 + 1]\n"
  "  local f = flags & 32 == 0 and parse.unquote or parse.unquote_plus\n"
  "  local ok, r = try(allowed, f, s, enc, errs)\n"
  "  check(not ok or type(r) == 'string', 'unquote(%s)', q(s))\n"
  "  if ok and not s:find('[%%+]') then\n"
  "    check(r == s, 'unquote(%s, %s, %s) = %s: no escape to decode', q(s), enc, errs, q(r))\n"
  "  end\n"
  "  check(type(parse.unquote_to_bytes(s)) == 'string', 'unquote_to_bytes(%s)', q(s))\n"
  "end\n"
  "\n"
  // A safe '%' (or '+' for quote_plus) leaves text that unquote reads
  // back differently, in Python too: the round trip holds without them.
  "local function roundtrip(s, safe)\n"
  "  safe = safe:gsub('[%%+]', '')\n"
  "  for _, pair in ipairs {{parse.quote, parse.unquote, '/'}, {parse.quote_plus, parse.unquote_plus, ''}} do\n"
  "    local quote, unquote, default = pair[1], pair[2], pair[3]\n"
  "    local qs = quote(s, safe)\n"
  "    local keep = '[^%w_.~%%%-' .. (safe .. default):gsub('[^%w]', '%%%0') .. (quote == parse.quote_plus and '+' or '') .. ']'\n"
  "    check(not qs:find(keep), 'quote(%s, %s) = %s keeps an unsafe byte', q(s), q(safe), q(qs))\n"
  "    if utf8.len(s) then\n"
  "      local back = unquote(qs)\n"
  "      check(back == s, 'unquote(quote(%s, %s)) = %s (quoted %s)', q(s), q(safe), q(back), q(qs))\n"
  "    end\n"
  "    local back = unquote(qs, 'utf-8', 'surrogateescape')\n"
  "    check(back == s, 'unquote(quote(%s, %s), surrogateescape) = %s (quoted %s)', q(s), q(safe), q(back), q(qs))\n"
  "  end\n"
  "  local ok, ql = try(allowed, parse.quote, s, '', 'latin-1', 'strict')\n"
  "  if ok then\n"
  "    local back = parse.unquote(ql, 'latin-1')\n"
  "    check(back == s, 'latin-1 round trip of %s gives %s', q(s), q(back))\n"
  "  end\n"
  "end\n"
  "\n"
  "local function join(flags, url, base)\n"
  "  local ok, r = try(allowed, parse.urljoin, base, url, flags & 1 == 0)\n"
  "  check(not ok or type(r) == 'string', 'urljoin(%s, %s)', q(base), q(url))\n"
  "end\n"
  "\n"
  "return function(op, flags, s, extra)\n"
  "  if op <= 1 then split(flags, s, extra)\n"
  "  elseif op <= 3 then qs(flags, s, extra)\n"
  "  elseif op <= 5 then unq(flags, s)\n"
  "  elseif op == 6 then roundtrip(s, extra)\n"
  "  else join(flags, s, extra) end\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ref = LUA_NOREF;
  lua_State *L = fz_state();
  if (ref == LUA_NOREF) ref = fz_chunk(L, "=fuzz_urlparse", checker);
  fz_input in = {data, size};
  int op = fz_byte(&in) % 8;
  int flags = fz_byte(&in);
  size_t k = fz_byte(&in);
  if (k > in.n) k = in.n;
  fz_push(L, ref);
  lua_pushinteger(L, op);
  lua_pushinteger(L, flags);
  lua_pushlstring(L, (const char *)in.p + k, in.n - k);
  lua_pushlstring(L, (const char *)in.p, k);
  fz_call(L, 4);
  fz_done(L);
  return 0;
}
