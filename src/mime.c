/*
 * "mime.core": the codecs under LuaSocket's mime.lua (Debian's, unchanged),
 * so that moonsock never loads Debian's mime/core.so. Each function is a
 * filter step of LuaSocket's ltn12 protocol: it takes what it could not
 * finish last time plus new input, returns what it made and what is left,
 * and a nil input ends the stream. Results match LuaSocket's mime.core byte
 * for byte (spec/luasocket_mime_spec.lua compares them), including its
 * numbers being floats.
 */
#include <string.h>

#include "ms.h"

#define MIME_CRLF "\r\n"
#define MIME_EQCRLF "=\r\n"
/* A line of quoted-printable or base64 text, by RFC 2045. */
#define MIME_LINE 76

typedef unsigned char mime_byte;

static const char mime_b64base[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char mime_hex[] = "0123456789ABCDEF";

/* 0-63 for base64 digits, 0 for the pad '=', 255 for what decoding skips. */
static mime_byte mime_b64unbase[256];
/* 0-15 for hex digits, 255 otherwise. */
static mime_byte mime_qpunbase[256];

enum { MIME_QP_PLAIN, MIME_QP_QUOTED, MIME_QP_CR, MIME_QP_IF_LAST };
static mime_byte mime_qpclass[256];

static void mime_tables(void) {
  for (int i = 0; i < 256; i++) {
    mime_b64unbase[i] = 255;
    mime_qpunbase[i] = 255;
    mime_qpclass[i] = MIME_QP_QUOTED;
  }
  for (int i = 0; i < 64; i++) mime_b64unbase[(mime_byte)mime_b64base[i]] = (mime_byte)i;
  mime_b64unbase['='] = 0;
  for (int i = 0; i < 10; i++) mime_qpunbase['0' + i] = (mime_byte)i;
  for (int i = 0; i < 6; i++) {
    mime_qpunbase['A' + i] = (mime_byte)(10 + i);
    mime_qpunbase['a' + i] = (mime_byte)(10 + i);
  }
  for (int i = 33; i <= 60; i++) mime_qpclass[i] = MIME_QP_PLAIN;
  for (int i = 62; i <= 126; i++) mime_qpclass[i] = MIME_QP_PLAIN;
  mime_qpclass['\t'] = MIME_QP_IF_LAST;
  mime_qpclass[' '] = MIME_QP_IF_LAST;
  mime_qpclass['\r'] = MIME_QP_CR;
}

/* The filters' common shape: the first chunk with the bytes left over
 * from last time, then the second if given. step(c, atom, size, ...)
 * returns the new size of the pending atom. */

/* ---- base64 ---- */

static size_t mime_b64encode(mime_byte c, mime_byte *atom, size_t size, luaL_Buffer *b) {
  atom[size++] = c;
  if (size < 3) return size;
  unsigned v = ((unsigned)atom[0] << 16) | ((unsigned)atom[1] << 8) | atom[2];
  char out[4] = {mime_b64base[(v >> 18) & 63], mime_b64base[(v >> 12) & 63],
                 mime_b64base[(v >> 6) & 63], mime_b64base[v & 63]};
  luaL_addlstring(b, out, 4);
  return 0;
}

static void mime_b64pad(const mime_byte *atom, size_t size, luaL_Buffer *b) {
  if (size == 0) return;
  unsigned v = (unsigned)atom[0] << 16;
  if (size == 2) v |= (unsigned)atom[1] << 8;
  char out[4] = {mime_b64base[(v >> 18) & 63], mime_b64base[(v >> 12) & 63],
                 size == 2 ? mime_b64base[(v >> 6) & 63] : '=', '='};
  luaL_addlstring(b, out, 4);
}

static size_t mime_b64decode(mime_byte c, mime_byte *atom, size_t size, luaL_Buffer *b) {
  if (mime_b64unbase[c] == 255) return size;
  atom[size++] = c;
  if (size < 4) return size;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) v = (v << 6) | mime_b64unbase[atom[i]];
  char out[3] = {(char)(v >> 16), (char)(v >> 8), (char)v};
  size_t valid = atom[2] == '=' ? 1 : atom[3] == '=' ? 2 : 3;
  luaL_addlstring(b, out, valid);
  return 0;
}

/* A nil result stands for an empty one at the end of the stream; the
 * quoted-printable codecs test emptiness as LuaSocket's do, by the first
 * byte, so an output that starts with NUL is nil too. */
static int mime_push_end(lua_State *L, luaL_Buffer *b, int by_first_byte) {
  luaL_pushresult(b);
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  if (n == 0 || (by_first_byte && s[0] == '\0')) lua_pushnil(L);
  lua_pushnil(L);
  return 2;
}

typedef size_t (*mime_step)(mime_byte c, mime_byte *atom, size_t size, luaL_Buffer *b);

/* b64 and unb64: (C[, D]) -> output, rest. */
static int mime_filter(lua_State *L, mime_step step, int pad, int by_first_byte) {
  size_t isize = 0;
  const mime_byte *in = (const mime_byte *)luaL_optlstring(L, 1, NULL, &isize);
  if (!in) {
    lua_pushnil(L);
    lua_pushnil(L);
    return 2;
  }
  size_t dsize = 0;
  const mime_byte *more = (const mime_byte *)luaL_optlstring(L, 2, NULL, &dsize);
  mime_byte atom[4];
  size_t asize = 0;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < isize; i++) asize = step(in[i], atom, asize, &b);
  if (!more) {
    if (pad) mime_b64pad(atom, asize, &b);
    return mime_push_end(L, &b, by_first_byte);
  }
  for (size_t i = 0; i < dsize; i++) asize = step(more[i], atom, asize, &b);
  luaL_pushresult(&b);
  lua_pushlstring(L, (const char *)atom, asize);
  return 2;
}

static int mime_b64(lua_State *L) { return mime_filter(L, mime_b64encode, 1, 0); }
static int mime_unb64(lua_State *L) { return mime_filter(L, mime_b64decode, 0, 0); }

/* ---- quoted-printable ---- */

static void mime_qpquote(mime_byte c, luaL_Buffer *b) {
  char out[3] = {'=', mime_hex[c >> 4], mime_hex[c & 15]};
  luaL_addlstring(b, out, 3);
}

static size_t mime_qpencode(mime_byte c, mime_byte *atom, size_t size, const char *marker,
                            luaL_Buffer *b) {
  atom[size++] = c;
  while (size > 0) {
    switch (mime_qpclass[atom[0]]) {
      case MIME_QP_CR: /* perhaps a CRLF, which becomes the marker */
        if (size < 2) return size;
        if (atom[1] == '\n') {
          luaL_addstring(b, marker);
          return 0;
        }
        mime_qpquote(atom[0], b);
        break;
      case MIME_QP_IF_LAST: /* white space is quoted at the end of a line */
        if (size < 3) return size;
        if (atom[1] == '\r' && atom[2] == '\n') {
          mime_qpquote(atom[0], b);
          luaL_addstring(b, marker);
          return 0;
        }
        luaL_addchar(b, (char)atom[0]);
        break;
      case MIME_QP_QUOTED:
        mime_qpquote(atom[0], b);
        break;
      default:
        luaL_addchar(b, (char)atom[0]);
        break;
    }
    atom[0] = atom[1];
    atom[1] = atom[2];
    size--;
  }
  return 0;
}

/* qp(C[, D[, marker]]) -> output, rest. */
static int mime_qp(lua_State *L) {
  size_t isize = 0, dsize = 0;
  const mime_byte *in = (const mime_byte *)luaL_optlstring(L, 1, NULL, &isize);
  const char *marker = luaL_optstring(L, 3, MIME_CRLF);
  if (!in) {
    lua_pushnil(L);
    lua_pushnil(L);
    return 2;
  }
  const mime_byte *more = (const mime_byte *)luaL_optlstring(L, 2, NULL, &dsize);
  mime_byte atom[3];
  size_t asize = 0;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < isize; i++) asize = mime_qpencode(in[i], atom, asize, marker, &b);
  if (!more) {
    for (size_t i = 0; i < asize; i++) {
      if (mime_qpclass[atom[i]] == MIME_QP_PLAIN) luaL_addchar(&b, (char)atom[i]);
      else mime_qpquote(atom[i], &b);
    }
    if (asize > 0) luaL_addstring(&b, MIME_EQCRLF);
    return mime_push_end(L, &b, 1);
  }
  for (size_t i = 0; i < dsize; i++) asize = mime_qpencode(more[i], atom, asize, marker, &b);
  luaL_pushresult(&b);
  lua_pushlstring(L, (const char *)atom, asize);
  return 2;
}

static size_t mime_qpdecode(mime_byte c, mime_byte *atom, size_t size, luaL_Buffer *b) {
  atom[size++] = c;
  switch (atom[0]) {
    case '=':
      if (size < 3) return size;
      if (atom[1] == '\r' && atom[2] == '\n') return 0; /* soft line break */
      if (mime_qpunbase[atom[1]] > 15 || mime_qpunbase[atom[2]] > 15)
        luaL_addlstring(b, (const char *)atom, 3); /* not an escape: kept */
      else
        luaL_addchar(b, (char)((mime_qpunbase[atom[1]] << 4) + mime_qpunbase[atom[2]]));
      return 0;
    case '\r':
      if (size < 2) return size;
      if (atom[1] == '\n') luaL_addlstring(b, (const char *)atom, 2);
      return 0;
    default:
      if (atom[0] == '\t' || (atom[0] > 31 && atom[0] < 127)) luaL_addchar(b, (char)atom[0]);
      return 0;
  }
}

static int mime_unqp(lua_State *L) { return mime_filter(L, mime_qpdecode, 0, 1); }

/* ---- line wrapping ---- */

/* wrp(left, C[, length]) and qpwrp: output, what is left of the line. */
static int mime_wrap(lua_State *L, int qp) {
  int left = (int)luaL_checknumber(L, 1);
  size_t size = 0;
  const char *in = luaL_optlstring(L, 2, NULL, &size);
  int length = (int)luaL_optnumber(L, 3, MIME_LINE);
  if (!in) {
    if (left < length) lua_pushstring(L, qp ? MIME_EQCRLF : MIME_CRLF);
    else lua_pushnil(L);
    lua_pushnumber(L, (lua_Number)length);
    return 2;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < size; i++) {
    char c = in[i];
    if (c == '\r') continue;
    if (c == '\n') {
      luaL_addstring(&b, MIME_CRLF);
      left = length;
      continue;
    }
    /* a quoted-printable escape (=XX) is never split */
    int room = qp ? (c == '=' ? 3 : 1) : 0;
    if (left <= room) {
      left = length;
      luaL_addstring(&b, qp ? MIME_EQCRLF : MIME_CRLF);
    }
    luaL_addchar(&b, c);
    left--;
  }
  luaL_pushresult(&b);
  lua_pushnumber(L, (lua_Number)left);
  return 2;
}

static int mime_wrp(lua_State *L) { return mime_wrap(L, 0); }
static int mime_qpwrp(lua_State *L) { return mime_wrap(L, 1); }

/* ---- end of lines ---- */

static int mime_eolcandidate(int c) { return c == '\r' || c == '\n'; }

/* eol(context, C[, marker]): every CR, LF, CRLF or LFCR becomes marker. */
static int mime_eol(lua_State *L) {
  int ctx = (int)luaL_checkinteger(L, 1);
  size_t size = 0;
  const char *in = luaL_optlstring(L, 2, NULL, &size);
  const char *marker = luaL_optstring(L, 3, MIME_CRLF);
  if (!in) {
    lua_pushnil(L);
    lua_pushnumber(L, 0);
    return 2;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < size; i++) {
    int c = (mime_byte)in[i];
    if (mime_eolcandidate(c)) {
      if (mime_eolcandidate(ctx)) {
        if (c == ctx) luaL_addstring(&b, marker);
        ctx = 0;
      } else {
        luaL_addstring(&b, marker);
        ctx = c;
      }
    } else {
      luaL_addchar(&b, (char)c);
      ctx = 0;
    }
  }
  luaL_pushresult(&b);
  lua_pushnumber(L, (lua_Number)ctx);
  return 2;
}

/* dot(state, C): SMTP's dot-stuffing; state 2 means "at a line start". */
static int mime_dot(lua_State *L) {
  size_t state = (size_t)luaL_checknumber(L, 1);
  size_t size = 0;
  const char *in = luaL_optlstring(L, 2, NULL, &size);
  if (!in) {
    lua_pushnil(L);
    lua_pushnumber(L, 2);
    return 2;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < size; i++) {
    char c = in[i];
    luaL_addchar(&b, c);
    if (c == '\r') {
      state = 1;
    } else if (c == '\n') {
      state = state == 1 ? 2 : 0;
    } else {
      if (c == '.' && state == 2) luaL_addchar(&b, '.');
      state = 0;
    }
  }
  luaL_pushresult(&b);
  lua_pushnumber(L, (lua_Number)state);
  return 2;
}

int ms_open_mime(lua_State *L) {
  static const luaL_Reg funcs[] = {{"b64", mime_b64},   {"unb64", mime_unb64}, {"qp", mime_qp},
                                   {"unqp", mime_unqp}, {"wrp", mime_wrp},     {"qpwrp", mime_qpwrp},
                                   {"eol", mime_eol},   {"dot", mime_dot},     {NULL, NULL}};
  mime_tables();
  luaL_newlib(L, funcs);
  lua_pushliteral(L, "MIME 1.0.3");
  lua_setfield(L, -2, "_VERSION");
  return 1;
}
