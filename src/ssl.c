/*
 * The ssl core ("moonsock.core.ssl"): Python's _ssl over OpenSSL 3, for
 * lua/ssl.lua to build Python's ssl module on. Three types: a context
 * (SSL_CTX), a connection (SSL) and a MemoryBIO (a memory BIO). One file
 * over 800 lines, as CPython's _ssl.c is: the three types share the checker,
 * the error mapping and the one park-and-retry continuation; the Lua-free
 * part (the transport, error names) is tls.c.
 *
 * A connection runs over a moonsock socket's fd or over two MemoryBIOs. Over
 * a socket, a handshake, read, write or shutdown that OpenSSL answers with
 * WANT_READ / WANT_WRITE parks the task until the fd is ready (or the
 * socket's timeout passes) and retries in its continuation, so no OpenSSL
 * call ever blocks the loop. Over BIOs (and on a non-blocking socket) those
 * answers raise SSLWantReadError / SSLWantWriteError at once, as in Python.
 *
 * Errors are made by a Lua factory that ssl.lua registers (set_error_factory):
 * this file gathers OpenSSL's facts (library and reason, verify result, the
 * operation), ssl.lua writes Python's text and picks the class.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms.h"
#include "tls.h"

#define CTX_META "SSLContext"
#define CONN_META "moonsock.ssl.connection"
#define BIO_META "MemoryBIO"

/* The largest plaintext of one TLS record: one SSL_read never returns more. */
#define RECORD_MAX 16384

/* Python's _ssl error numbers (ssl.SSLErrorNumber). */
enum {
  PY_SSL_ERROR_SSL = 1,
  PY_SSL_ERROR_WANT_READ = 2,
  PY_SSL_ERROR_WANT_WRITE = 3,
  PY_SSL_ERROR_WANT_X509_LOOKUP = 4,
  PY_SSL_ERROR_SYSCALL = 5,
  PY_SSL_ERROR_ZERO_RETURN = 6,
  PY_SSL_ERROR_WANT_CONNECT = 7,
  PY_SSL_ERROR_EOF = 8,
  PY_SSL_ERROR_INVALID_ERROR_CODE = 10
};

/* The operations a connection parks in; ssl.lua names them in errors. */
enum { OP_HANDSHAKE, OP_READ, OP_WRITE, OP_WRITEALL, OP_SHUTDOWN };
static const char *const op_names[] = {"handshake", "read", "write", "write", "shutdown"};

typedef struct {
  SSL_CTX *ctx; /* NULL once closed */
  int protocol; /* Python's PROTOCOL_* number */
} tls_context;

/* The errors the verify callback saw in the peer's chain, in order (LuaSec's
 * getpeerverification lists them all, where OpenSSL keeps one verdict). */
#define VERIFY_LOG_MAX 16
typedef struct {
  int n;
  struct {
    int depth, code;
  } e[VERIFY_LOG_MAX];
} verify_log;

typedef struct {
  SSL *ssl;      /* NULL once closed */
  lua_State *L;  /* while an OpenSSL call runs: the state whose slot 1 is this */
  int over_bio;  /* over MemoryBIOs, not a socket */
  verify_log *verify_errors; /* NULL until the first error: most chains have none */
} tls_conn;

typedef struct {
  BIO *bio; /* NULL once closed */
  int eof_written;
} tls_membio;

/* A context's ex data slots: the server's ALPN list (a 2-byte length, then
 * the wire format), whether post-handshake auth is on, the key log file. */
static int ex_alpn = -1, ex_pha = -1, ex_keylog = -1;

/* Registry key of ssl.lua's error factory: factory(number, library, reason,
 * text, verify_code, verify_message, operation[, owner]) -> error object. */
static const char error_factory_key = 0;

/* The verify callback of every context: logs the chain's errors for
 * conn:verify_errors(). The verdict stays OpenSSL's, except that under
 * CERT_NONE, where nothing rests on it, the walk goes on past an error so
 * that every error of the chain is logged. */
static int verify_cb(int ok, X509_STORE_CTX *store) {
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  tls_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
  if (!ok && c) {
    if (!c->verify_errors) {
      c->verify_errors = calloc(1, sizeof *c->verify_errors);
      if (!c->verify_errors) return 0;
    }
    verify_log *log = c->verify_errors;
    if (log->n < VERIFY_LOG_MAX) {
      log->e[log->n].depth = X509_STORE_CTX_get_error_depth(store);
      log->e[log->n].code = X509_STORE_CTX_get_error(store);
      log->n++;
    }
  }
  if (ssl && SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE) return 1;
  return ok;
}

/* ---- checking ---- */

static tls_context *check_context(lua_State *L, int idx) {
  tls_context *c = luaL_checkudata(L, idx, CTX_META);
  if (!c->ctx) luaL_error(L, "attempt to use a closed SSLContext");
  return c;
}

static tls_conn *check_conn(lua_State *L, int idx) {
  tls_conn *c = luaL_checkudata(L, idx, CONN_META);
  if (!c->ssl) ms_raise(L, "ValueError", 0, "I/O operation on closed SSL connection");
  return c;
}

static tls_membio *check_membio(lua_State *L, int idx) {
  tls_membio *b = luaL_checkudata(L, idx, BIO_META);
  if (!b->bio) luaL_error(L, "attempt to use a closed MemoryBIO");
  return b;
}

/* ---- errors ---- */

/* Raises an error of OpenSSL's queue that is not tied to a connection (a
 * context's load_cert_chain, a bad PEM...), as Python's _setSSLError. */
static int raise_queue(lua_State *L, const char *fallback) {
  unsigned long e = ERR_peek_last_error();
  lua_rawgetp(L, LUA_REGISTRYINDEX, &error_factory_key);
  lua_pushinteger(L, PY_SSL_ERROR_SSL);
  const char *lib = e ? ms_tls_lib_name(ERR_GET_LIB(e)) : NULL;
  const char *reason = e ? ms_tls_reason_name(ERR_GET_LIB(e), ERR_GET_REASON(e)) : NULL;
  const char *text = e ? ERR_reason_error_string(e) : NULL;
  lua_pushstring(L, lib);
  lua_pushstring(L, reason);
  lua_pushstring(L, text ? text : fallback);
  lua_pushnil(L);
  lua_pushnil(L);
  lua_pushliteral(L, "");
  ERR_clear_error();
  lua_call(L, 7, 1);
  return lua_error(L);
}

/*
 * Raises what OpenSSL's answer err (from SSL_get_error after a call that
 * returned ret) means, as Python's PySSL_SetError: an OSError for a
 * handshake or shutdown whose syscall failed with an errno, else an SSL
 * error whose class the factory picks from Python's error number. sys_err
 * is the transport's errno.
 */
static int raise_ssl(lua_State *L, tls_conn *c, int err, int ret, int sys_err, int op) {
  unsigned long e = ERR_peek_last_error();
  int kind = PY_SSL_ERROR_SSL;
  const char *text = NULL;
  switch (err) {
  case SSL_ERROR_ZERO_RETURN:
    kind = PY_SSL_ERROR_ZERO_RETURN;
    text = "TLS/SSL connection has been closed (EOF)";
    break;
  case SSL_ERROR_WANT_READ:
    kind = PY_SSL_ERROR_WANT_READ;
    text = "The operation did not complete (read)";
    break;
  case SSL_ERROR_WANT_WRITE:
    kind = PY_SSL_ERROR_WANT_WRITE;
    text = "The operation did not complete (write)";
    break;
  case SSL_ERROR_WANT_X509_LOOKUP:
    kind = PY_SSL_ERROR_WANT_X509_LOOKUP;
    text = "The operation did not complete (X509 lookup)";
    break;
  case SSL_ERROR_WANT_CONNECT:
    kind = PY_SSL_ERROR_WANT_CONNECT;
    text = "The operation did not complete (connect)";
    break;
  case SSL_ERROR_SYSCALL:
    /* Python's order: a call that returned 0 (SSL_read_ex and SSL_write_ex
     * always do on failure) met the end of the stream, even when the kernel
     * said ECONNRESET or EPIPE; only -1 (a handshake, a shutdown) with an
     * errno is an OSError, and -1 without one is an EOF too. */
    if (e == 0) {
      if (ret == -1 && !c->over_bio && sys_err) {
        ERR_clear_error();
        return ms_raise_errno(L, sys_err);
      }
      kind = ret == 0 || ret == -1 || c->over_bio ? PY_SSL_ERROR_EOF : PY_SSL_ERROR_SYSCALL;
      text = kind == PY_SSL_ERROR_EOF ? "EOF occurred in violation of protocol" : "Some I/O error occurred";
    } else {
      kind = PY_SSL_ERROR_SYSCALL;
    }
    break;
  case SSL_ERROR_SSL:
    if (e == 0) text = "A failure in the SSL library occurred";
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      kind = PY_SSL_ERROR_EOF;
      text = "EOF occurred in violation of protocol";
    }
    break;
  default:
    kind = PY_SSL_ERROR_INVALID_ERROR_CODE;
    text = "Invalid error code";
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &error_factory_key);
  lua_pushinteger(L, kind);
  const char *lib = e ? ms_tls_lib_name(ERR_GET_LIB(e)) : NULL;
  const char *reason = e ? ms_tls_reason_name(ERR_GET_LIB(e), ERR_GET_REASON(e)) : NULL;
  if (!text && e) text = ERR_reason_error_string(e);
  lua_pushstring(L, lib);
  lua_pushstring(L, reason);
  lua_pushstring(L, text ? text : "unknown error");
  if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long code = SSL_get_verify_result(c->ssl);
    lua_pushinteger(L, code);
    lua_pushstring(L, X509_verify_cert_error_string(code));
  } else {
    lua_pushnil(L);
    lua_pushnil(L);
  }
  lua_pushstring(L, op_names[op]);
  lua_getiuservalue(L, 1, 2); /* the owner, whose server_hostname a mismatch names */
  ERR_clear_error();
  lua_call(L, 8, 1);
  return lua_error(L);
}

static int set_error_factory(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &error_factory_key);
  return 0;
}

/* ---- certificates as Python decodes them ---- */

static void push_name(lua_State *L, X509_NAME *name);

static void push_asn1_string(lua_State *L, const ASN1_STRING *s) {
  unsigned char *utf8 = NULL;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) {
    lua_pushlstring(L, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
    return;
  }
  lua_pushlstring(L, (const char *)utf8, (size_t)n);
  OPENSSL_free(utf8);
}

/* An object's long name ("commonName"), or its dotted number. */
static void push_object(lua_State *L, const ASN1_OBJECT *obj) {
  char buf[256];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 0);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  lua_pushlstring(L, buf, (size_t)n);
}

/* A name as Python gives it: a tuple of RDNs, each a tuple of
 * (attribute, value) tuples. */
static void push_name(lua_State *L, X509_NAME *name) {
  int count = X509_NAME_entry_count(name);
  ms_push_tuple(L, 0);
  int rdns = 0, last_set = -1;
  for (int i = 0; i < count; i++) {
    X509_NAME_ENTRY *entry = X509_NAME_get_entry(name, i);
    int set = X509_NAME_ENTRY_set(entry);
    if (set != last_set) {
      ms_push_tuple(L, 0);
      lua_rawseti(L, -2, ++rdns);
      last_set = set;
    }
    lua_rawgeti(L, -1, rdns);
    ms_push_tuple(L, 2);
    push_object(L, X509_NAME_ENTRY_get_object(entry));
    lua_rawseti(L, -2, 1);
    push_asn1_string(L, X509_NAME_ENTRY_get_data(entry));
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
  }
}

static void push_pair(lua_State *L, const char *a, const char *b, size_t blen) {
  ms_push_tuple(L, 2);
  lua_pushstring(L, a);
  lua_rawseti(L, -2, 1);
  lua_pushlstring(L, b, blen);
  lua_rawseti(L, -2, 2);
}

static void append(lua_State *L, int t) {
  lua_rawseti(L, t, (lua_Integer)lua_rawlen(L, t) + 1);
}

/* subjectAltName: a tuple of (type, value) pairs, with Python's type names. */
static void push_alt_names(lua_State *L, X509 *cert) {
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  if (!names) return;
  ms_push_tuple(L, 0);
  int t = lua_gettop(L);
  for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
    char buf[64];
    switch (gn->type) {
    case GEN_DNS:
    case GEN_EMAIL:
    case GEN_URI: {
      const char *kind = gn->type == GEN_DNS ? "DNS" : gn->type == GEN_EMAIL ? "email" : "URI";
      const ASN1_IA5STRING *s = gn->d.ia5;
      push_pair(L, kind, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
      break;
    }
    case GEN_IPADD: {
      const unsigned char *p = ASN1_STRING_get0_data(gn->d.ip);
      int len = ASN1_STRING_length(gn->d.ip);
      if (len == 4) {
        snprintf(buf, sizeof buf, "%d.%d.%d.%d", p[0], p[1], p[2], p[3]);
      } else if (len == 16) {
        /* Python prints every group in full, upper case. */
        int o = 0;
        for (int j = 0; j < 16; j += 2)
          o += snprintf(buf + o, sizeof buf - (size_t)o, "%s%X", j ? ":" : "", p[j] << 8 | p[j + 1]);
      } else {
        snprintf(buf, sizeof buf, "<invalid>");
      }
      push_pair(L, "IP Address", buf, strlen(buf));
      break;
    }
    case GEN_DIRNAME:
      ms_push_tuple(L, 2);
      lua_pushliteral(L, "DirName");
      lua_rawseti(L, -2, 1);
      push_name(L, gn->d.directoryName);
      lua_rawseti(L, -2, 2);
      break;
    case GEN_RID: {
      char obj[256];
      OBJ_obj2txt(obj, sizeof obj, gn->d.registeredID, 1);
      push_pair(L, "Registered ID", obj, strlen(obj));
      break;
    }
    default:
      push_pair(L, "othername", "<unsupported>", 13);
    }
    append(L, t);
  }
  GENERAL_NAMES_free(names);
  lua_setfield(L, -2, "subjectAltName");
}

/* OCSP and caIssuers from authorityInfoAccess; crlDistributionPoints. */
static void push_info_access(lua_State *L, X509 *cert) {
  AUTHORITY_INFO_ACCESS *info = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
  if (!info) return;
  static const struct { int nid; const char *key; } kinds[] = {
      {NID_ad_OCSP, "OCSP"}, {NID_ad_ca_issuers, "caIssuers"}};
  for (size_t k = 0; k < 2; k++) {
    int found = 0;
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(info); i++) {
      ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(info, i);
      if (OBJ_obj2nid(ad->method) != kinds[k].nid || ad->location->type != GEN_URI) continue;
      if (!found++) ms_push_tuple(L, 0);
      const ASN1_IA5STRING *s = ad->location->d.uniformResourceIdentifier;
      lua_pushlstring(L, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
      append(L, lua_gettop(L) - 1);
    }
    if (found) lua_setfield(L, -2, kinds[k].key);
  }
  AUTHORITY_INFO_ACCESS_free(info);
}

static void push_crl_points(lua_State *L, X509 *cert) {
  STACK_OF(DIST_POINT) *points = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
  if (!points) return;
  int found = 0;
  for (int i = 0; i < sk_DIST_POINT_num(points); i++) {
    DIST_POINT *dp = sk_DIST_POINT_value(points, i);
    if (!dp->distpoint || dp->distpoint->type != 0) continue;
    GENERAL_NAMES *names = dp->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); j++) {
      GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
      if (gn->type != GEN_URI) continue;
      if (!found++) ms_push_tuple(L, 0);
      const ASN1_IA5STRING *s = gn->d.uniformResourceIdentifier;
      lua_pushlstring(L, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
      append(L, lua_gettop(L) - 1);
    }
  }
  if (found) lua_setfield(L, -2, "crlDistributionPoints");
  sk_DIST_POINT_pop_free(points, DIST_POINT_free);
}

static void push_bio_text(lua_State *L, BIO *b) {
  char *p;
  long n = BIO_get_mem_data(b, &p);
  lua_pushlstring(L, p, n > 0 ? (size_t)n : 0);
  (void)BIO_reset(b);
}

/* The dict of Python's _decode_certificate. */
static void push_cert(lua_State *L, X509 *cert) {
  BIO *b = BIO_new(BIO_s_mem());
  if (!b) luaL_error(L, "not enough memory");
  lua_createtable(L, 0, 10);
  push_name(L, X509_get_subject_name(cert));
  lua_setfield(L, -2, "subject");
  push_name(L, X509_get_issuer_name(cert));
  lua_setfield(L, -2, "issuer");
  lua_pushinteger(L, X509_get_version(cert) + 1);
  lua_setfield(L, -2, "version");
  i2a_ASN1_INTEGER(b, X509_get0_serialNumber(cert));
  push_bio_text(L, b);
  lua_setfield(L, -2, "serialNumber");
  ASN1_TIME_print(b, X509_get0_notBefore(cert));
  push_bio_text(L, b);
  lua_setfield(L, -2, "notBefore");
  ASN1_TIME_print(b, X509_get0_notAfter(cert));
  push_bio_text(L, b);
  lua_setfield(L, -2, "notAfter");
  BIO_free(b);
  push_alt_names(L, cert);
  push_info_access(L, cert);
  push_crl_points(L, cert);
}

static void push_der(lua_State *L, X509 *cert) {
  unsigned char *der = NULL;
  int n = i2d_X509(cert, &der);
  if (n < 0) luaL_error(L, "cannot encode the certificate");
  lua_pushlstring(L, (const char *)der, (size_t)n);
  OPENSSL_free(der);
}

/* check_der(L, idx): the DER certificate at idx, decoded (the caller frees
 * it), or an SSLError. */
static X509 *check_der(lua_State *L, int idx) {
  size_t n;
  const unsigned char *p = (const unsigned char *)luaL_checklstring(L, idx, &n);
  X509 *cert = d2i_X509(NULL, &p, (long)n);
  if (!cert) raise_queue(L, "cannot decode the certificate");
  return cert;
}

/* _test_decode_cert(der): a DER certificate's dict. */
static int mod_decode_cert(lua_State *L) {
  X509 *cert = check_der(L, 1);
  push_cert(L, cert);
  X509_free(cert);
  return 1;
}

/* ---- certificates as LuaSec reads them (lua/moonsock/luasec.lua) ---- */

/* A name as LuaSec's x509:subject() gives it: a list of {oid =, name =,
 * value =}, name the long name ("commonName"). */
static void push_luasec_name(lua_State *L, X509_NAME *name) {
  int count = X509_NAME_entry_count(name);
  lua_createtable(L, count, 0);
  for (int i = 0; i < count; i++) {
    X509_NAME_ENTRY *entry = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(entry);
    char oid[128];
    OBJ_obj2txt(oid, sizeof oid, obj, 1);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, oid);
    lua_setfield(L, -2, "oid");
    push_object(L, obj);
    lua_setfield(L, -2, "name");
    push_asn1_string(L, X509_NAME_ENTRY_get_data(entry));
    lua_setfield(L, -2, "value");
    lua_rawseti(L, -2, i + 1);
  }
}

/* subjectAltName as LuaSec's x509:extensions() gives it:
 * {["2.5.29.17"] = {name = ..., dNSName = {...}, iPAddress = {...}, ...}}. */
static void push_luasec_extensions(lua_State *L, X509 *cert) {
  lua_newtable(L);
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  if (!names) return;
  lua_newtable(L);
  lua_pushliteral(L, "X509v3 Subject Alternative Name");
  lua_setfield(L, -2, "name");
  for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
    const char *kind = NULL;
    char buf[64] = "";
    const unsigned char *p = NULL;
    size_t len = 0;
    switch (gn->type) {
    case GEN_DNS: kind = "dNSName"; break;
    case GEN_EMAIL: kind = "rfc822Name"; break;
    case GEN_URI: kind = "uniformResourceIdentifier"; break;
    case GEN_IPADD: {
      kind = "iPAddress";
      const unsigned char *a = ASN1_STRING_get0_data(gn->d.ip);
      int n = ASN1_STRING_length(gn->d.ip);
      /* inet_ntop's text, as LuaSec's ("::1"). */
      if (n == 4 || n == 16) inet_ntop(n == 4 ? AF_INET : AF_INET6, a, buf, sizeof buf);
      p = (const unsigned char *)buf;
      len = strlen(buf);
      break;
    }
    default: continue;
    }
    if (!p) {
      p = ASN1_STRING_get0_data(gn->d.ia5);
      len = (size_t)ASN1_STRING_length(gn->d.ia5);
    }
    if (lua_getfield(L, -1, kind) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, kind);
    }
    lua_pushlstring(L, (const char *)p, len);
    append(L, lua_gettop(L) - 1);
    lua_pop(L, 1);
  }
  GENERAL_NAMES_free(names);
  lua_setfield(L, -2, "2.5.29.17");
}

/* luasec_x509(der): the fields of LuaSec's x509 methods, in one table
 * (subject, issuer, serial, notbefore, notafter, notbefore_t, notafter_t,
 * pubkey, pubkey_type, pubkey_bits, extensions, signature). */
static int mod_luasec_x509(lua_State *L) {
  X509 *cert = check_der(L, 1);
  BIO *b = BIO_new(BIO_s_mem());
  if (!b) {
    X509_free(cert);
    return luaL_error(L, "not enough memory");
  }
  lua_createtable(L, 0, 12);
  push_luasec_name(L, X509_get_subject_name(cert));
  lua_setfield(L, -2, "subject");
  push_luasec_name(L, X509_get_issuer_name(cert));
  lua_setfield(L, -2, "issuer");
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  lua_pushstring(L, hex ? hex : "");
  lua_setfield(L, -2, "serial");
  OPENSSL_free(hex);
  BN_free(bn);
  ASN1_TIME_print(b, X509_get0_notBefore(cert));
  push_bio_text(L, b);
  lua_setfield(L, -2, "notbefore");
  ASN1_TIME_print(b, X509_get0_notAfter(cert));
  push_bio_text(L, b);
  lua_setfield(L, -2, "notafter");
  /* Seconds from now to each bound: validat compares them with its time. */
  int days, secs;
  if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notBefore(cert))) {
    lua_pushinteger(L, (lua_Integer)days * 86400 + secs);
    lua_setfield(L, -2, "notbefore_in");
  }
  if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert))) {
    lua_pushinteger(L, (lua_Integer)days * 86400 + secs);
    lua_setfield(L, -2, "notafter_in");
  }
  EVP_PKEY *key = X509_get0_pubkey(cert);
  if (key) {
    PEM_write_bio_PUBKEY(b, key);
    push_bio_text(L, b);
    lua_setfield(L, -2, "pubkey");
    int id = EVP_PKEY_get_base_id(key);
    lua_pushstring(L, id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_DSA ? "DSA" : id == EVP_PKEY_DH ? "DH"
                      : id == EVP_PKEY_EC ? "EC" : "Unknown");
    lua_setfield(L, -2, "pubkey_type");
    lua_pushinteger(L, EVP_PKEY_get_bits(key));
    lua_setfield(L, -2, "pubkey_bits");
  }
  push_luasec_extensions(L, cert);
  lua_setfield(L, -2, "extensions");
  const char *sig = OBJ_nid2ln(X509_get_signature_nid(cert));
  lua_pushstring(L, sig ? sig : "");
  lua_setfield(L, -2, "signature");
  BIO_free(b);
  X509_free(cert);
  return 1;
}

/* luasec_digest(der, name): the hex digest of the DER bytes, or nothing
 * for an unknown digest name. */
static int mod_luasec_digest(lua_State *L) {
  size_t n;
  const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &n);
  const EVP_MD *md = EVP_get_digestbyname(luaL_checkstring(L, 2));
  if (!md) return 0;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(p, n, out, &len, md, NULL)) return raise_queue(L, "digest failed");
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", out[i]);
  lua_pushlstring(L, hex, 2 * (size_t)len);
  return 1;
}

/* ---- contexts ---- */

static int context_new(lua_State *L) {
  lua_Integer protocol = luaL_checkinteger(L, 1);
  const SSL_METHOD *method;
  if (protocol == 16)
    method = TLS_client_method();
  else if (protocol == 17)
    method = TLS_server_method();
  else if (protocol == 2)
    method = TLS_method();
  else
    return ms_raise(L, "ValueError", 0, "invalid or unsupported protocol version");
  tls_context *c = lua_newuserdatauv(L, sizeof *c, 2);
  c->ctx = NULL;
  c->protocol = (int)protocol;
  luaL_setmetatable(L, CTX_META);
  c->ctx = SSL_CTX_new(method);
  if (!c->ctx) return raise_queue(L, "failed to allocate SSL context");
  /* Python's defaults (Modules/_ssl.c, _ssl__SSLContext_impl). */
  SSL_CTX_set_options(c->ctx, (SSL_OP_ALL & ~SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS) | SSL_OP_NO_SSLv2 |
                                  SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_DH_USE |
                                  SSL_OP_SINGLE_ECDH_USE);
  SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
  if (!SSL_CTX_set_cipher_list(c->ctx, "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:"
                                       "!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM"))
    return raise_queue(L, "No cipher can be selected.");
  /* An idle connection keeps no record buffers (16 KB each way) while its
   * task waits: most of what an idle TLS connection costs. */
  SSL_CTX_set_mode(c->ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
  X509_VERIFY_PARAM *param = SSL_CTX_get0_param(c->ctx);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_TRUSTED_FIRST);
  if (protocol == 16) SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
  /* A server resumes sessions only under a session id context. */
  SSL_CTX_set_session_id_context(c->ctx, (const unsigned char *)"Python", 6);
  return 1;
}

static int context_close(lua_State *L) {
  tls_context *c = luaL_checkudata(L, 1, CTX_META);
  if (c->ctx) {
    SSL_CTX_free(c->ctx);
    c->ctx = NULL;
  }
  return 0;
}

/* Passwords for encrypted keys: the string in the callback's userdata. */
static int password_cb(char *buf, int size, int rwflag, void *userdata) {
  const char *pw = userdata;
  size_t n = strlen(pw);
  if (n > (size_t)size) return -1;
  memcpy(buf, pw, n);
  return (int)n;
}

/* load_cert_chain(certfile, keyfile|nil, password|nil) */
static int context_load_cert_chain(lua_State *L) {
  tls_context *c = check_context(L, 1);
  const char *certfile = luaL_checkstring(L, 2);
  const char *keyfile = luaL_optstring(L, 3, certfile);
  const char *password = luaL_optstring(L, 4, NULL);
  ERR_clear_error();
  SSL_CTX_set_default_passwd_cb(c->ctx, password ? password_cb : NULL);
  SSL_CTX_set_default_passwd_cb_userdata(c->ctx, (void *)password);
  errno = 0;
  int ok = SSL_CTX_use_certificate_chain_file(c->ctx, certfile);
  if (ok == 1) {
    errno = 0;
    ok = SSL_CTX_use_PrivateKey_file(c->ctx, keyfile, SSL_FILETYPE_PEM);
    if (ok == 1) ok = SSL_CTX_check_private_key(c->ctx);
  }
  int saved = errno;
  SSL_CTX_set_default_passwd_cb(c->ctx, NULL);
  SSL_CTX_set_default_passwd_cb_userdata(c->ctx, NULL);
  if (ok == 1) return 0;
  /* A missing file is an OSError, as in Python. */
  unsigned long e = ERR_peek_last_error();
  if (saved && (ERR_GET_LIB(e) == ERR_LIB_SYS || ERR_GET_REASON(e) == ERR_R_SYS_LIB || e == 0 ||
                ERR_GET_LIB(e) == ERR_LIB_BIO)) {
    ERR_clear_error();
    return ms_raise_errno(L, saved);
  }
  return raise_queue(L, "PEM lib");
}

/* load_verify_locations(cafile|nil, capath|nil, cadata|nil, cadata_is_der) */
static int context_load_verify_locations(lua_State *L) {
  tls_context *c = check_context(L, 1);
  const char *cafile = luaL_optstring(L, 2, NULL);
  const char *capath = luaL_optstring(L, 3, NULL);
  size_t dlen;
  const char *cadata = luaL_optlstring(L, 4, NULL, &dlen);
  int der = lua_toboolean(L, 5);
  ERR_clear_error();
  if (cadata) {
    X509_STORE *store = SSL_CTX_get_cert_store(c->ctx);
    BIO *b = BIO_new_mem_buf(cadata, (int)dlen);
    if (!b) return luaL_error(L, "not enough memory");
    int loaded = 0;
    for (;;) {
      X509 *cert = der ? d2i_X509_bio(b, NULL) : PEM_read_bio_X509(b, NULL, NULL, NULL);
      if (!cert) break;
      if (!X509_STORE_add_cert(store, cert)) {
        unsigned long e = ERR_peek_last_error();
        /* A certificate already in the store is no error, as in Python. */
        if (ERR_GET_LIB(e) != ERR_LIB_X509 || ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
          X509_free(cert);
          BIO_free(b);
          return raise_queue(L, "cannot add the certificate");
        }
        ERR_clear_error();
      }
      X509_free(cert);
      loaded++;
    }
    int eof = BIO_eof(b);
    BIO_free(b);
    if (!loaded)
      return ms_raise(L, "SSLError", 0, der ? "not enough data: cadata does not contain a certificate"
                                            : "no start line: cadata does not contain a certificate");
    if (!eof && der) return raise_queue(L, "not enough data");
    ERR_clear_error();
  }
  if (cafile || capath) {
    errno = 0;
    if (SSL_CTX_load_verify_locations(c->ctx, cafile, capath) != 1) {
      if (errno) {
        int saved = errno;
        ERR_clear_error();
        return ms_raise_errno(L, saved);
      }
      return raise_queue(L, "cannot load the verify locations");
    }
  }
  return 0;
}

static int context_set_default_verify_paths(lua_State *L) {
  tls_context *c = check_context(L, 1);
  if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) return raise_queue(L, "cannot set the default paths");
  return 0;
}

static int context_set_ciphers(lua_State *L) {
  tls_context *c = check_context(L, 1);
  const char *list = luaL_checkstring(L, 2);
  if (!SSL_CTX_set_cipher_list(c->ctx, list)) {
    ERR_clear_error();
    return ms_raise(L, "SSLError", 0, "No cipher can be selected.");
  }
  return 0;
}

/* LuaSec's context settings that Python's SSLContext lacks (params.depth,
 * ciphersuites, curveslist): each answers true, or false and OpenSSL's
 * reason, for lua/moonsock/luasec.lua to word as LuaSec does. */
static int context_set_verify_depth(lua_State *L) {
  tls_context *c = check_context(L, 1);
  lua_Integer depth = luaL_checkinteger(L, 2);
  SSL_CTX_set_verify_depth(c->ctx, depth < INT_MIN ? INT_MIN : depth > INT_MAX ? INT_MAX : (int)depth);
  lua_pushboolean(L, 1);
  return 1;
}

static int push_setting_result(lua_State *L, int ok) {
  lua_pushboolean(L, ok);
  if (ok) return 1;
  const char *reason = ERR_reason_error_string(ERR_peek_last_error());
  lua_pushstring(L, reason ? reason : "unknown error");
  ERR_clear_error();
  return 2;
}

static int context_set_ciphersuites(lua_State *L) {
  tls_context *c = check_context(L, 1);
  return push_setting_result(L, SSL_CTX_set_ciphersuites(c->ctx, luaL_checkstring(L, 2)) == 1);
}

static int context_set_groups_list(lua_State *L) {
  tls_context *c = check_context(L, 1);
  return push_setting_result(L, SSL_CTX_set1_groups_list(c->ctx, luaL_checkstring(L, 2)) == 1);
}

/* dane_enable(no_ee_namechecks): LuaSec's params.dane; the connections
 * then take setdane/settlsa (conn_dane_enable, conn_dane_tlsa_add). */
static int context_dane_enable(lua_State *L) {
  tls_context *c = check_context(L, 1);
  int ok = SSL_CTX_dane_enable(c->ctx) > 0;
  if (ok && lua_toboolean(L, 2)) SSL_CTX_dane_set_flags(c->ctx, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  return push_setting_result(L, ok);
}

/* One cipher's dict, as Python's cipher_to_dict. */
static void push_cipher_dict(lua_State *L, const SSL_CIPHER *cipher) {
  char desc[256];
  lua_createtable(L, 0, 11);
  lua_pushinteger(L, SSL_CIPHER_get_id(cipher));
  lua_setfield(L, -2, "id");
  lua_pushstring(L, SSL_CIPHER_get_name(cipher));
  lua_setfield(L, -2, "name");
  lua_pushstring(L, SSL_CIPHER_get_version(cipher));
  lua_setfield(L, -2, "protocol");
  SSL_CIPHER_description(cipher, desc, sizeof desc);
  size_t n = strlen(desc);
  while (n && (desc[n - 1] == '\n' || desc[n - 1] == ' ')) n--;
  lua_pushlstring(L, desc, n);
  lua_setfield(L, -2, "description");
  int alg_bits;
  lua_pushinteger(L, SSL_CIPHER_get_bits(cipher, &alg_bits));
  lua_setfield(L, -2, "strength_bits");
  lua_pushinteger(L, alg_bits);
  lua_setfield(L, -2, "alg_bits");
  lua_pushboolean(L, SSL_CIPHER_is_aead(cipher));
  lua_setfield(L, -2, "aead");
  static const struct { int (*nid)(const SSL_CIPHER *); const char *key; } fields[] = {
      {SSL_CIPHER_get_cipher_nid, "symmetric"}, {SSL_CIPHER_get_digest_nid, "digest"},
      {SSL_CIPHER_get_kx_nid, "kea"}, {SSL_CIPHER_get_auth_nid, "auth"}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    int nid = fields[i].nid(cipher);
    if (nid == NID_undef) {
      lua_pushboolean(L, 0); /* Python's None: ssl.lua turns false into nil */
    } else {
      lua_pushstring(L, OBJ_nid2ln(nid));
    }
    lua_setfield(L, -2, fields[i].key);
  }
}

static int context_get_ciphers(lua_State *L) {
  tls_context *c = check_context(L, 1);
  SSL *ssl = SSL_new(c->ctx);
  if (!ssl) return raise_queue(L, "cannot list the ciphers");
  STACK_OF(SSL_CIPHER) *list = SSL_get_ciphers(ssl);
  lua_createtable(L, sk_SSL_CIPHER_num(list), 0);
  for (int i = 0; i < sk_SSL_CIPHER_num(list); i++) {
    push_cipher_dict(L, sk_SSL_CIPHER_value(list, i));
    lua_rawseti(L, -2, i + 1);
  }
  SSL_free(ssl);
  return 1;
}

/* The client offers the protocols (wire format); a server picks the first
 * of its own list that the client offers, as Python does. */
static int alpn_select_by_function(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                   const unsigned char *in, unsigned int inlen);

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
  if (arg) return alpn_select_by_function(ssl, out, outlen, in, inlen);
  SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
  const unsigned char *mine = SSL_CTX_get_ex_data(ctx, ex_alpn);
  if (!mine) return SSL_TLSEXT_ERR_NOACK;
  unsigned int mlen = mine[0] | (unsigned)mine[1] << 8;
  if (SSL_select_next_proto((unsigned char **)out, outlen, mine + 2, mlen, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  return SSL_TLSEXT_ERR_OK;
}

static void free_alpn(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
  OPENSSL_free(ptr);
}

static int context_set_alpn(lua_State *L) {
  tls_context *c = check_context(L, 1);
  size_t n;
  const char *wire = luaL_checklstring(L, 2, &n);
  luaL_argcheck(L, n < 65536, 2, "protocols too long");
  if (SSL_CTX_set_alpn_protos(c->ctx, (const unsigned char *)wire, (unsigned)n) != 0)
    return raise_queue(L, "cannot set the ALPN protocols");
  unsigned char *copy = OPENSSL_malloc(n + 2);
  if (!copy) return luaL_error(L, "not enough memory");
  copy[0] = (unsigned char)(n & 0xff);
  copy[1] = (unsigned char)(n >> 8);
  memcpy(copy + 2, wire, n);
  OPENSSL_free(SSL_CTX_get_ex_data(c->ctx, ex_alpn));
  SSL_CTX_set_ex_data(c->ctx, ex_alpn, copy);
  SSL_CTX_set_alpn_select_cb(c->ctx, alpn_select, NULL);
  return 0;
}

static int context_set_ecdh_curve(lua_State *L) {
  tls_context *c = check_context(L, 1);
  const char *name = luaL_checkstring(L, 2);
  int nid = OBJ_sn2nid(name);
  if (nid == NID_undef) return ms_raise(L, "ValueError", 0, lua_pushfstring(L, "unknown elliptic curve name '%s'", name));
  if (!SSL_CTX_set1_groups(c->ctx, &nid, 1)) return raise_queue(L, "cannot set the curve");
  return 0;
}

/* Integer attributes, read and written through one pair of functions:
 * get(name) and set(name, value). */
static int verify_mode_of(SSL_CTX *ctx) {
  int m = SSL_CTX_get_verify_mode(ctx);
  if (m & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) return 2;
  if (m & SSL_VERIFY_PEER) return 1;
  return 0;
}

static int context_get(lua_State *L) {
  tls_context *c = check_context(L, 1);
  const char *name = luaL_checkstring(L, 2);
  X509_VERIFY_PARAM *param = SSL_CTX_get0_param(c->ctx);
  if (!strcmp(name, "verify_mode")) {
    int m = verify_mode_of(c->ctx);
    lua_pushinteger(L, m);
  } else if (!strcmp(name, "verify_flags")) {
    lua_pushinteger(L, (lua_Integer)X509_VERIFY_PARAM_get_flags(param));
  } else if (!strcmp(name, "options")) {
    lua_pushinteger(L, (lua_Integer)SSL_CTX_get_options(c->ctx));
  } else if (!strcmp(name, "minimum_version")) {
    int v = SSL_CTX_get_min_proto_version(c->ctx);
    lua_pushinteger(L, v ? v : -2);
  } else if (!strcmp(name, "maximum_version")) {
    int v = SSL_CTX_get_max_proto_version(c->ctx);
    lua_pushinteger(L, v ? v : -1);
  } else if (!strcmp(name, "protocol")) {
    lua_pushinteger(L, c->protocol);
  } else if (!strcmp(name, "security_level")) {
    lua_pushinteger(L, SSL_CTX_get_security_level(c->ctx));
  } else if (!strcmp(name, "num_tickets")) {
    lua_pushinteger(L, (lua_Integer)SSL_CTX_get_num_tickets(c->ctx));
  } else if (!strcmp(name, "hostname_checks_common_name")) {
    lua_pushinteger(L, !(X509_VERIFY_PARAM_get_hostflags(param) & X509_CHECK_FLAG_NEVER_CHECK_SUBJECT));
  } else {
    return luaL_argerror(L, 2, "unknown attribute");
  }
  return 1;
}

static int context_set(lua_State *L) {
  tls_context *c = check_context(L, 1);
  const char *name = luaL_checkstring(L, 2);
  lua_Integer v = luaL_checkinteger(L, 3);
  X509_VERIFY_PARAM *param = SSL_CTX_get0_param(c->ctx);
  if (!strcmp(name, "verify_mode")) {
    int mode = v == 0 ? SSL_VERIFY_NONE
               : v == 1 ? SSL_VERIFY_PEER
                        : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    int pha = SSL_CTX_get_ex_data(c->ctx, ex_pha) != NULL;
    if (pha && mode != SSL_VERIFY_NONE) mode |= SSL_VERIFY_POST_HANDSHAKE;
    SSL_CTX_set_verify(c->ctx, mode, verify_cb);
  } else if (!strcmp(name, "verify_flags")) {
    unsigned long cur = X509_VERIFY_PARAM_get_flags(param);
    X509_VERIFY_PARAM_clear_flags(param, cur & ~(unsigned long)v);
    X509_VERIFY_PARAM_set_flags(param, (unsigned long)v & ~cur);
  } else if (!strcmp(name, "options")) {
    uint64_t cur = SSL_CTX_get_options(c->ctx);
    SSL_CTX_clear_options(c->ctx, cur & ~(uint64_t)v);
    SSL_CTX_set_options(c->ctx, (uint64_t)v & ~cur);
  } else if (!strcmp(name, "minimum_version") || !strcmp(name, "maximum_version")) {
    int version = v == -2 || v == -1 ? 0 : (int)v;
    int ok = name[1] == 'i' ? SSL_CTX_set_min_proto_version(c->ctx, version)
                            : SSL_CTX_set_max_proto_version(c->ctx, version);
    if (!ok) return ms_raise(L, "ValueError", 0, lua_pushfstring(L, "Unsupported TLS/SSL version 0x%x", (int)v));
  } else if (!strcmp(name, "post_handshake_auth")) {
    SSL_CTX_set_ex_data(c->ctx, ex_pha, v ? (void *)1 : NULL);
    int mode = SSL_CTX_get_verify_mode(c->ctx);
    if (v && mode != SSL_VERIFY_NONE) mode |= SSL_VERIFY_POST_HANDSHAKE;
    if (!v) mode &= ~SSL_VERIFY_POST_HANDSHAKE;
    SSL_CTX_set_verify(c->ctx, mode, verify_cb);
  } else if (!strcmp(name, "num_tickets")) {
    if (v < 0) return ms_raise(L, "ValueError", 0, "value must be non-negative");
    if (c->protocol != 17) return ms_raise(L, "ValueError", 0, "SSLContext is not a server context.");
    SSL_CTX_set_num_tickets(c->ctx, (size_t)v);
  } else if (!strcmp(name, "hostname_checks_common_name")) {
    /* Python's switch for the common-name fallback of OpenSSL's host check;
     * each connection inherits the context's host flags (SSL_new). */
    unsigned int flags = X509_VERIFY_PARAM_get_hostflags(param);
    if (v) flags &= ~(unsigned int)X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
    else flags |= X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
    X509_VERIFY_PARAM_set_hostflags(param, flags);
  } else {
    return luaL_argerror(L, 2, "unknown attribute");
  }
  return 0;
}

static int context_cert_store_stats(lua_State *L) {
  tls_context *c = check_context(L, 1);
  STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(c->ctx));
  int x509 = 0, crl = 0, ca = 0;
  for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
    X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
    if (X509_OBJECT_get_type(o) == X509_LU_X509) {
      x509++;
      if (X509_check_ca(X509_OBJECT_get0_X509(o))) ca++;
    } else if (X509_OBJECT_get_type(o) == X509_LU_CRL) {
      crl++;
    }
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, x509);
  lua_setfield(L, -2, "x509");
  lua_pushinteger(L, crl);
  lua_setfield(L, -2, "crl");
  lua_pushinteger(L, ca);
  lua_setfield(L, -2, "x509_ca");
  return 1;
}

/* get_ca_certs(binary_form): the CA certificates in the store. */
static int context_get_ca_certs(lua_State *L) {
  tls_context *c = check_context(L, 1);
  int binary = lua_toboolean(L, 2);
  STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(c->ctx));
  lua_newtable(L);
  int n = 0;
  for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
    X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
    if (X509_OBJECT_get_type(o) != X509_LU_X509) continue;
    X509 *cert = X509_OBJECT_get0_X509(o);
    if (!X509_check_ca(cert)) continue;
    if (binary)
      push_der(L, cert);
    else
      push_cert(L, cert);
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

static int context_session_stats(lua_State *L) {
  tls_context *c = check_context(L, 1);
  SSL_CTX *x = c->ctx;
  lua_createtable(L, 0, 11);
#define STAT(name, f) (lua_pushinteger(L, f(x)), lua_setfield(L, -2, name))
  STAT("number", SSL_CTX_sess_number);
  STAT("connect", SSL_CTX_sess_connect);
  STAT("connect_good", SSL_CTX_sess_connect_good);
  STAT("connect_renegotiate", SSL_CTX_sess_connect_renegotiate);
  STAT("accept", SSL_CTX_sess_accept);
  STAT("accept_good", SSL_CTX_sess_accept_good);
  STAT("accept_renegotiate", SSL_CTX_sess_accept_renegotiate);
  STAT("hits", SSL_CTX_sess_hits);
  STAT("misses", SSL_CTX_sess_misses);
  STAT("timeouts", SSL_CTX_sess_timeouts);
  STAT("cache_full", SSL_CTX_sess_cache_full);
#undef STAT
  return 1;
}

/* keylog: lines in NSS key log format, appended to the file (ex data 2). */
static void keylog_cb(const SSL *ssl, const char *line) {
  FILE *f = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_keylog);
  if (!f) return;
  fprintf(f, "%s\n", line);
  fflush(f);
}

static void free_keylog(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
  if (ptr) fclose(ptr);
}

static int context_set_keylog(lua_State *L) {
  tls_context *c = check_context(L, 1);
  const char *path = luaL_optstring(L, 2, NULL);
  FILE *old = SSL_CTX_get_ex_data(c->ctx, ex_keylog);
  SSL_CTX_set_ex_data(c->ctx, ex_keylog, NULL);
  if (old) fclose(old);
  SSL_CTX_set_keylog_callback(c->ctx, NULL);
  if (!path) return 0;
  FILE *f = fopen(path, "ae");
  if (!f) return ms_raise_errno(L, errno);
  SSL_CTX_set_ex_data(c->ctx, ex_keylog, f);
  SSL_CTX_set_keylog_callback(c->ctx, keylog_cb);
  return 0;
}

/*
 * The servername callback runs inside SSL_do_handshake, called from a
 * connection's operation on the state conn->L, whose slot 1 is the
 * connection. It calls the context's Lua function (the context's user value)
 * with the connection's owner (the SSLSocket or SSLObject) and the name,
 * under lua_pcall: it cannot park (there is no continuation inside OpenSSL's
 * callback), and an error becomes a handshake_failure alert, as in Python.
 * A returned integer is the alert to send.
 */
static int servername_cb(SSL *ssl, int *al, void *arg) {
  tls_conn *conn = SSL_get_app_data(ssl);
  if (!conn || !conn->L) return SSL_TLSEXT_ERR_OK;
  lua_State *L = conn->L;
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 6)) return SSL_TLSEXT_ERR_ALERT_FATAL;
  int result = SSL_TLSEXT_ERR_OK;
  lua_getiuservalue(L, 1, 1); /* the context the handshake began with */
  if (lua_type(L, -1) == LUA_TUSERDATA && lua_getiuservalue(L, -1, 1) == LUA_TFUNCTION) {
    lua_getiuservalue(L, 1, 2);
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name)
      lua_pushstring(L, name);
    else
      lua_pushnil(L);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
      *al = SSL_AD_HANDSHAKE_FAILURE;
      result = SSL_TLSEXT_ERR_ALERT_FATAL;
    } else if (lua_isinteger(L, -1)) {
      *al = (int)lua_tointeger(L, -1);
      result = SSL_TLSEXT_ERR_ALERT_FATAL;
    }
  }
  lua_settop(L, top);
  return result;
}

/* set_servername_callback(fn|nil): fn(owner, name) -> nil | alert */
static int context_set_servername_callback(lua_State *L) {
  tls_context *c = check_context(L, 1);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, 1);
  if (lua_isnil(L, 2))
    SSL_CTX_set_tlsext_servername_callback(c->ctx, NULL);
  else
    SSL_CTX_set_tlsext_servername_callback(c->ctx, servername_cb);
  return 0;
}

/* A server's ALPN function (LuaSec's params.alpn as a function), the
 * context's second user value: called as the servername callback is (see
 * there: same state, under lua_pcall, cannot park) with the client's offer in
 * wire format; it returns the server's list in wire format, or nil for no
 * protocol. The first of that list the client offers wins (OpenSSL's
 * SSL_select_next_proto rule); *out points into the client's offer, which
 * outlives the callback, not into the Lua string. */
static int alpn_select_by_function(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                   const unsigned char *in, unsigned int inlen) {
  tls_conn *conn = SSL_get_app_data(ssl);
  if (!conn || !conn->L) return SSL_TLSEXT_ERR_NOACK;
  lua_State *L = conn->L;
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 4)) return SSL_TLSEXT_ERR_ALERT_FATAL;
  int result = SSL_TLSEXT_ERR_NOACK;
  lua_getiuservalue(L, 1, 1); /* the context the handshake began with */
  if (lua_type(L, -1) == LUA_TUSERDATA && lua_getiuservalue(L, -1, 2) == LUA_TFUNCTION) {
    lua_pushlstring(L, (const char *)in, inlen);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      result = SSL_TLSEXT_ERR_ALERT_FATAL;
    } else if (lua_type(L, -1) == LUA_TSTRING) {
      size_t n;
      const unsigned char *mine = (const unsigned char *)lua_tolstring(L, -1, &n);
      for (size_t i = 0; i < n && result == SSL_TLSEXT_ERR_NOACK; i += 1 + (size_t)mine[i]) {
        if (i + 1 + mine[i] > n) break;
        for (unsigned j = 0; j < inlen && j + 1u + in[j] <= inlen; j += 1u + in[j]) {
          if (in[j] == mine[i] && memcmp(in + j + 1, mine + i + 1, mine[i]) == 0) {
            *out = in + j + 1;
            *outlen = in[j];
            result = SSL_TLSEXT_ERR_OK;
            break;
          }
        }
      }
    }
  }
  lua_settop(L, top);
  return result;
}

/* set_alpn_callback(fn): fn(offer) -> list | nil, both in wire format. */
static int context_set_alpn_callback(lua_State *L) {
  tls_context *c = check_context(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, 2);
  SSL_CTX_set_alpn_select_cb(c->ctx, alpn_select, c);
  return 0;
}

/* ---- MemoryBIO ---- */

static int membio_new(lua_State *L) {
  tls_membio *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->bio = NULL;
  b->eof_written = 0;
  luaL_setmetatable(L, BIO_META);
  b->bio = BIO_new(BIO_s_mem());
  if (!b->bio) return luaL_error(L, "not enough memory");
  /* Empty is "try again" until write_eof, as in Python. */
  BIO_set_mem_eof_return(b->bio, -1);
  return 1;
}

static int membio_close(lua_State *L) {
  tls_membio *b = luaL_checkudata(L, 1, BIO_META);
  if (b->bio) {
    BIO_free(b->bio);
    b->bio = NULL;
  }
  return 0;
}

static int membio_read(lua_State *L) {
  tls_membio *b = check_membio(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, -1);
  size_t avail = BIO_ctrl_pending(b->bio);
  size_t want = n < 0 || (size_t)n > avail ? avail : (size_t)n;
  luaL_Buffer buf;
  char *p = luaL_buffinitsize(L, &buf, want);
  int got = want ? BIO_read(b->bio, p, (int)want) : 0;
  luaL_pushresultsize(&buf, got > 0 ? (size_t)got : 0);
  return 1;
}

static int membio_write(lua_State *L) {
  tls_membio *b = check_membio(L, 1);
  size_t n;
  const char *data = luaL_checklstring(L, 2, &n);
  if (n > INT_MAX) return ms_raise(L, "ValueError", 0, "string longer than 2147483647 bytes");
  if (b->eof_written) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &error_factory_key);
    lua_pushinteger(L, 0); /* no error number: the text alone, as Python */
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushliteral(L, "cannot write() after write_eof()");
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushliteral(L, "");
    lua_call(L, 7, 1);
    return lua_error(L);
  }
  int w = n ? BIO_write(b->bio, data, (int)n) : 0;
  if (w < 0) return raise_queue(L, "cannot write to the BIO");
  lua_pushinteger(L, w);
  return 1;
}

static int membio_write_eof(lua_State *L) {
  tls_membio *b = check_membio(L, 1);
  b->eof_written = 1;
  BIO_set_mem_eof_return(b->bio, 0);
  return 0;
}

static int membio_pending(lua_State *L) {
  tls_membio *b = check_membio(L, 1);
  lua_pushinteger(L, (lua_Integer)BIO_ctrl_pending(b->bio));
  return 1;
}

static int membio_eof(lua_State *L) {
  tls_membio *b = check_membio(L, 1);
  lua_pushboolean(L, b->eof_written && BIO_ctrl_pending(b->bio) == 0);
  return 1;
}

/* ---- connections ---- */

/*
 * new_connection(ctx, server_side, hostname|nil, check_hostname, sock|nil,
 * incoming|nil, outgoing|nil) -> conn. User values: 1 the context, 2 the
 * owner (set_owner), 3 the two MemoryBIOs (kept alive as long as the SSL).
 */
static int conn_new(lua_State *L) {
  tls_context *ctx = check_context(L, 1);
  int server_side = lua_toboolean(L, 2);
  const char *hostname = luaL_optstring(L, 3, NULL);
  int check_hostname = lua_toboolean(L, 4);
  int over_bio = lua_isnoneornil(L, 5);
  ms_io *io = over_bio ? NULL : ms_socket_io(L, 5, NULL);
  tls_membio *in = over_bio ? check_membio(L, 6) : NULL;
  tls_membio *out = over_bio ? check_membio(L, 7) : NULL;
  tls_conn *c = lua_newuserdatauv(L, sizeof *c, 3);
  int idx = lua_gettop(L);
  c->ssl = NULL;
  c->L = NULL;
  c->over_bio = over_bio;
  c->verify_errors = NULL;
  luaL_setmetatable(L, CONN_META);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, idx, 1);
  if (over_bio) {
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, 6);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, 7);
    lua_rawseti(L, -2, 2);
    lua_setiuservalue(L, idx, 3);
  }
  ERR_clear_error();
  c->ssl = SSL_new(ctx->ctx);
  if (!c->ssl) return raise_queue(L, "cannot make the connection");
  SSL_set_app_data(c->ssl, c);
  if (over_bio) {
    BIO_up_ref(in->bio);
    BIO_up_ref(out->bio);
    SSL_set_bio(c->ssl, in->bio, out->bio);
  } else {
    BIO *b = ms_tls_socket_bio(io->fd);
    if (!b) return luaL_error(L, "not enough memory");
    SSL_set_bio(c->ssl, b, b);
  }
  if (hostname) {
    /* SNI only for names, never for IP addresses (RFC 6066). */
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(hostname);
    if (!ip) {
      ERR_clear_error();
      if (!SSL_set_tlsext_host_name(c->ssl, hostname)) return raise_queue(L, "cannot set the server name");
    }
    if (check_hostname) {
      X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
      int ok = ip ? X509_VERIFY_PARAM_set1_ip(param, ASN1_STRING_get0_data(ip), (size_t)ASN1_STRING_length(ip))
                  : X509_VERIFY_PARAM_set1_host(param, hostname, 0);
      if (ip) ASN1_OCTET_STRING_free(ip);
      if (!ok) return raise_queue(L, "cannot set the host name to check");
    } else if (ip) {
      ASN1_OCTET_STRING_free(ip);
    }
  }
  if (server_side)
    SSL_set_accept_state(c->ssl);
  else
    SSL_set_connect_state(c->ssl);
  return 1;
}

static int conn_close(lua_State *L) {
  tls_conn *c = luaL_checkudata(L, 1, CONN_META);
  if (c->ssl) {
    SSL_free(c->ssl);
    c->ssl = NULL;
  }
  free(c->verify_errors);
  c->verify_errors = NULL;
  return 0;
}

static int conn_set_owner(lua_State *L) {
  check_conn(L, 1);
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, 2);
  return 0;
}

/* set_context(ctx): the SNI callback's way to answer with another
 * certificate (Python's sslsock.context = ...). */
static int conn_set_context(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  tls_context *ctx = check_context(L, 2);
  if (!SSL_set_SSL_CTX(c->ssl, ctx->ctx)) return raise_queue(L, "cannot switch the context");
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, 1);
  return 0;
}

static int raise_timeout(lua_State *L, int op, int want_write) {
  if (op == OP_HANDSHAKE)
    return ms_raise(L, "timeout", 0, "_ssl.c:989: The handshake operation timed out");
  if (op == OP_READ || (op == OP_SHUTDOWN && !want_write))
    return ms_raise(L, "timeout", 0, "The read operation timed out");
  return ms_raise(L, "timeout", 0, "The write operation timed out");
}

/*
 * The one continuation of every operation. Stack: 1 conn, 2 socket or nil,
 * 3 the operation's argument (a count or the data), 4 the deadline (pushed
 * on the first wait, so a retry does not restart the clock; one deadline
 * for the whole of a sendall). ctx: the operation in bits 0-2, whether the
 * last wait was for writing in bit 3, the bytes written so far above.
 */
static int conn_op_k(lua_State *L, int status, lua_KContext kctx) {
  int op = (int)(kctx & 7);
  size_t done = (size_t)(kctx >> 4);
  if (status == LUA_YIELD) {
    if (ms_wake_reason(L) == MS_WAKE_TIMEOUT) return raise_timeout(L, op, (int)(kctx >> 3 & 1));
    ms_check_wake(L);
  }
  tls_conn *c = check_conn(L, 1);
  double timeout = 0;
  /* Checked once per call and per wake: the socket may have been closed
   * meanwhile (its io then refuses the next wait with EBADF). */
  ms_io *io = c->over_bio ? NULL : ms_socket_io(L, 2, &timeout);
  int zeros = 0;
  for (;;) {
    int ret = 0, err;
    size_t n = 0;
    char buf[RECORD_MAX];
    ERR_clear_error();
    c->L = L;
    switch (op) {
    case OP_HANDSHAKE:
      ret = SSL_do_handshake(c->ssl);
      break;
    case OP_READ: {
      size_t want = (size_t)lua_tointeger(L, 3);
      ret = SSL_read_ex(c->ssl, buf, want < RECORD_MAX ? want : RECORD_MAX, &n);
      break;
    }
    case OP_WRITE:
    case OP_WRITEALL: {
      size_t len;
      const char *data = lua_tolstring(L, 3, &len);
      ret = len == done ? 1 : SSL_write_ex(c->ssl, data + done, len - done, &n);
      break;
    }
    case OP_SHUTDOWN:
      ret = SSL_shutdown(c->ssl);
      break;
    }
    c->L = NULL;
    /* 0: our close_notify is sent; call again to wait for the peer's, as
     * Python's unwrap does, but only once more. */
    if (op == OP_SHUTDOWN && ret == 0 && ++zeros < 2) continue;
    if (op == OP_SHUTDOWN && ret == 0) return 0;
    if (ret > 0) {
      switch (op) {
      case OP_READ:
        lua_pushlstring(L, buf, n);
        return 1;
      case OP_WRITE:
        lua_pushinteger(L, (lua_Integer)n);
        return 1;
      case OP_WRITEALL: {
        size_t len;
        lua_tolstring(L, 3, &len);
        done += n;
        if (done < len) continue;
        return 0;
      }
      default:
        return 0;
      }
    }
    BIO *rbio = SSL_get_rbio(c->ssl), *wbio = SSL_get_wbio(c->ssl);
    int sys_err = ms_tls_bio_errno(rbio);
    if (!sys_err) sys_err = ms_tls_bio_errno(wbio);
    err = SSL_get_error(c->ssl, ret);
    /* A read that meets the peer's close_notify gives b'' (Python's
     * suppress_ragged_eofs is ssl.lua's business). */
    if (op == OP_READ && err == SSL_ERROR_ZERO_RETURN && SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN) {
      ERR_clear_error();
      lua_pushliteral(L, "");
      return 1;
    }
    if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) && !c->over_bio && timeout != 0) {
      int events = err == SSL_ERROR_WANT_READ ? UV_READABLE : UV_WRITABLE;
      double wait = -1;
      if (timeout > 0) {
        if (lua_isnil(L, 4)) {
          lua_pushnumber(L, ms_now(L) + timeout);
          lua_replace(L, 4);
        }
        wait = lua_tonumber(L, 4) - ms_now(L);
        if (wait < 0) wait = 0;
      }
      lua_settop(L, 4);
      ERR_clear_error();
      lua_KContext next = (lua_KContext)(done << 4) | (err == SSL_ERROR_WANT_WRITE ? 8 : 0) | op;
      return ms_park_io(L, io, events, wait, next, conn_op_k);
    }
    return raise_ssl(L, c, err, ret, sys_err, op);
  }
}

static int conn_start(lua_State *L, int op) {
  check_conn(L, 1);
  lua_settop(L, 4);
  lua_pushnil(L);
  lua_replace(L, 4);
  return conn_op_k(L, LUA_OK, op);
}

/* do_handshake(sock|nil) */
static int conn_do_handshake(lua_State *L) { return conn_start(L, OP_HANDSHAKE); }

/* read(sock|nil, n) */
static int conn_read(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 3);
  luaL_argcheck(L, n >= 0, 3, "size should not be negative");
  if (n == 0) {
    check_conn(L, 1);
    lua_pushliteral(L, "");
    return 1;
  }
  return conn_start(L, OP_READ);
}

/* write(sock|nil, data) -> count; writeall(sock|nil, data) */
static int conn_write(lua_State *L) {
  luaL_checkstring(L, 3);
  return conn_start(L, OP_WRITE);
}

static int conn_writeall(lua_State *L) {
  luaL_checkstring(L, 3);
  return conn_start(L, OP_WRITEALL);
}

/* shutdown(sock|nil): sends close_notify and waits for the peer's. */
static int conn_shutdown(lua_State *L) { return conn_start(L, OP_SHUTDOWN); }

static int conn_pending(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  lua_pushinteger(L, SSL_pending(c->ssl));
  return 1;
}

static int conn_handshake_done(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  lua_pushboolean(L, SSL_is_init_finished(c->ssl));
  return 1;
}

static int conn_version(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  if (!SSL_is_init_finished(c->ssl)) return 0;
  lua_pushstring(L, SSL_get_version(c->ssl));
  return 1;
}

/* cipher() -> name, protocol, bits */
static int conn_cipher(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
  if (!cipher) return 0;
  lua_pushstring(L, SSL_CIPHER_get_name(cipher));
  lua_pushstring(L, SSL_CIPHER_get_version(cipher));
  lua_pushinteger(L, SSL_CIPHER_get_bits(cipher, NULL));
  return 3;
}

/* shared_ciphers() -> list of {name, protocol, bits}, or nothing */
static int conn_shared_ciphers(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  STACK_OF(SSL_CIPHER) *list = SSL_get_client_ciphers(c->ssl);
  if (!list) return 0;
  lua_createtable(L, sk_SSL_CIPHER_num(list), 0);
  for (int i = 0; i < sk_SSL_CIPHER_num(list); i++) {
    const SSL_CIPHER *cipher = sk_SSL_CIPHER_value(list, i);
    ms_push_tuple(L, 3);
    lua_pushstring(L, SSL_CIPHER_get_name(cipher));
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, SSL_CIPHER_get_version(cipher));
    lua_rawseti(L, -2, 2);
    lua_pushinteger(L, SSL_CIPHER_get_bits(cipher, NULL));
    lua_rawseti(L, -2, 3);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int conn_alpn(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  const unsigned char *p;
  unsigned int n;
  SSL_get0_alpn_selected(c->ssl, &p, &n);
  if (!p || !n) return 0;
  lua_pushlstring(L, (const char *)p, n);
  return 1;
}

/* peer_cert(binary) -> DER or dict; nothing if the peer sent none; the
 * boolean says whether it was verified. */
static int conn_peer_cert(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  int binary = lua_toboolean(L, 2);
  X509 *cert = SSL_get1_peer_certificate(c->ssl);
  if (!cert) return 0;
  if (binary)
    push_der(L, cert);
  else
    push_cert(L, cert);
  X509_free(cert);
  lua_pushboolean(L, SSL_get_verify_mode(c->ssl) != SSL_VERIFY_NONE);
  return 2;
}

/* verify_result() -> code, text: OpenSSL's verdict on the peer's chain,
 * kept even when the verify mode let the handshake go on. */
static int conn_verify_result(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  long code = SSL_get_verify_result(c->ssl);
  lua_pushinteger(L, (lua_Integer)code);
  lua_pushstring(L, X509_verify_cert_error_string(code));
  return 2;
}

/* dane_enable(basedomain), dane_tlsa_add(usage, selector, mtype, data):
 * LuaSec's setdane and settlsa, true or false as OpenSSL answers. */
static int conn_dane_enable(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  int ok = SSL_dane_enable(c->ssl, luaL_checkstring(L, 2)) > 0;
  ERR_clear_error();
  lua_pushboolean(L, ok);
  return 1;
}

static int conn_dane_tlsa_add(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  size_t n;
  lua_Integer field[3];
  for (int i = 0; i < 3; i++) {
    field[i] = luaL_checkinteger(L, 2 + i);
    if (field[i] < 0 || field[i] > 255) {
      lua_pushboolean(L, 0);
      return 1;
    }
  }
  const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 5, &n);
  int ok = SSL_dane_tlsa_add(c->ssl, (uint8_t)field[0], (uint8_t)field[1], (uint8_t)field[2], data, n) > 0;
  ERR_clear_error();
  lua_pushboolean(L, ok);
  return 1;
}

/* verify_errors() -> {{depth, text}...}: what verify_cb logged, in order. */
static int conn_verify_errors(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  int n = c->verify_errors ? c->verify_errors->n : 0;
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_createtable(L, 2, 0);
    lua_pushinteger(L, c->verify_errors->e[i].depth);
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, X509_verify_cert_error_string(c->verify_errors->e[i].code));
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void push_chain(lua_State *L, STACK_OF(X509) *chain) {
  lua_createtable(L, sk_X509_num(chain), 0);
  for (int i = 0; i < sk_X509_num(chain); i++) {
    push_der(L, sk_X509_value(chain, i));
    lua_rawseti(L, -2, i + 1);
  }
}

/* chain(verified) -> list of DER certificates */
static int conn_chain(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  STACK_OF(X509) *chain = lua_toboolean(L, 2) ? SSL_get0_verified_chain(c->ssl) : SSL_get_peer_cert_chain(c->ssl);
  if (!chain) return 0;
  if (!lua_toboolean(L, 2) && SSL_is_server(c->ssl)) {
    /* A server's peer chain lacks the client's own certificate. */
    X509 *leaf = SSL_get1_peer_certificate(c->ssl);
    lua_createtable(L, sk_X509_num(chain) + 1, 0);
    int n = 0;
    if (leaf) {
      push_der(L, leaf);
      lua_rawseti(L, -2, ++n);
      X509_free(leaf);
    }
    for (int i = 0; i < sk_X509_num(chain); i++) {
      push_der(L, sk_X509_value(chain, i));
      lua_rawseti(L, -2, ++n);
    }
    return 1;
  }
  push_chain(L, chain);
  return 1;
}

/* Pushes this side's (or with peer, the peer's) latest Finished message, or
 * nothing before there is one. */
static int push_finished(lua_State *L, tls_conn *c, int peer) {
  char buf[EVP_MAX_MD_SIZE];
  size_t n = peer ? SSL_get_peer_finished(c->ssl, buf, sizeof buf) : SSL_get_finished(c->ssl, buf, sizeof buf);
  if (n == 0) return 0;
  lua_pushlstring(L, buf, n);
  return 1;
}

/* tls-unique: the first Finished message of the handshake (RFC 5929): the
 * client's in a full handshake, the server's in a resumed one. */
static int conn_channel_binding(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  int resumed = SSL_session_reused(c->ssl);
  return push_finished(L, c, SSL_is_server(c->ssl) ? !resumed : resumed);
}

/* finished(peer): LuaSec's getfinished / getpeerfinished. */
static int conn_finished(lua_State *L) {
  return push_finished(L, check_conn(L, 1), lua_toboolean(L, 2));
}

static int conn_session_reused(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  lua_pushboolean(L, SSL_session_reused(c->ssl));
  return 1;
}

static int conn_server_side(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  lua_pushboolean(L, SSL_is_server(c->ssl));
  return 1;
}

static int conn_verify_client_post_handshake(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  if (!SSL_verify_client_post_handshake(c->ssl)) return raise_queue(L, "cannot ask for a certificate");
  return 0;
}

/* ---- sessions (opaque: DER bytes of SSL_SESSION) ---- */

static int conn_get_session(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  SSL_SESSION *s = SSL_get1_session(c->ssl);
  if (!s) return 0;
  int n = i2d_SSL_SESSION(s, NULL);
  unsigned char *der = n > 0 ? OPENSSL_malloc((size_t)n) : NULL;
  unsigned char *p = der;
  if (der) i2d_SSL_SESSION(s, &p);
  unsigned int idlen;
  const unsigned char *id = SSL_SESSION_get_id(s, &idlen);
  long t = SSL_SESSION_get_time(s), timeout = SSL_SESSION_get_timeout(s);
  int ticket = SSL_SESSION_has_ticket(s);
  unsigned long hint = SSL_SESSION_get_ticket_lifetime_hint(s);
  SSL_SESSION_free(s);
  if (!der) return luaL_error(L, "cannot encode the session");
  lua_pushlstring(L, (const char *)der, (size_t)n);
  OPENSSL_free(der);
  lua_pushlstring(L, (const char *)id, idlen);
  lua_pushinteger(L, t);
  lua_pushinteger(L, timeout);
  lua_pushboolean(L, ticket);
  lua_pushinteger(L, (lua_Integer)hint);
  return 6;
}

static int conn_set_session(lua_State *L) {
  tls_conn *c = check_conn(L, 1);
  size_t n;
  const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 2, &n);
  SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, (long)n);
  if (!s) return raise_queue(L, "invalid session");
  int ok = SSL_set_session(c->ssl, s);
  SSL_SESSION_free(s);
  if (!ok) return raise_queue(L, "cannot set the session");
  return 0;
}

/* ---- module functions ---- */

static int mod_rand_bytes(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  if (n < 0) return ms_raise(L, "ValueError", 0, "num must be positive");
  luaL_Buffer b;
  unsigned char *p = (unsigned char *)luaL_buffinitsize(L, &b, (size_t)n);
  if (n && RAND_bytes(p, (int)n) != 1) return raise_queue(L, "RAND_bytes failed");
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

static int mod_rand_status(lua_State *L) {
  lua_pushboolean(L, RAND_status() == 1);
  return 1;
}

/* b64encode(bytes) and b64decode(text without whitespace): for PEM. */
static int mod_b64encode(lua_State *L) {
  size_t n;
  const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &n);
  luaL_argcheck(L, n < INT_MAX / 2, 1, "too long");
  luaL_Buffer b;
  unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, 4 * ((n + 2) / 3) + 1);
  int len = EVP_EncodeBlock(out, p, (int)n);
  luaL_pushresultsize(&b, (size_t)len);
  return 1;
}

static int mod_b64decode(lua_State *L) {
  size_t n;
  const char *p = luaL_checklstring(L, 1, &n);
  luaL_argcheck(L, n < INT_MAX / 2, 1, "too long");
  if (n % 4) return ms_raise(L, "binascii.Error", 0, "Incorrect padding");
  luaL_Buffer b;
  unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, 3 * (n / 4) + 1);
  int len = n ? EVP_DecodeBlock(out, (const unsigned char *)p, (int)n) : 0;
  if (len < 0) return ms_raise(L, "binascii.Error", 0, "Invalid base64-encoded string");
  /* EVP_DecodeBlock counts the padding as zero bytes. */
  for (size_t i = n; i > 0 && p[i - 1] == '=' && len > 0; i--) len--;
  luaL_pushresultsize(&b, (size_t)len);
  return 1;
}

static int mod_default_verify_paths(lua_State *L) {
  lua_pushstring(L, X509_get_default_cert_file_env());
  lua_pushstring(L, X509_get_default_cert_file());
  lua_pushstring(L, X509_get_default_cert_dir_env());
  lua_pushstring(L, X509_get_default_cert_dir());
  return 4;
}

/* The numbers and names Python reads from the headers. */
static void set_constants(lua_State *L) {
#define INT(name, value) (lua_pushinteger(L, (lua_Integer)(value)), lua_setfield(L, -2, name))
  INT("OPENSSL_VERSION_NUMBER", OpenSSL_version_num());
  lua_pushstring(L, OpenSSL_version(OPENSSL_VERSION));
  lua_setfield(L, -2, "OPENSSL_VERSION");
  INT("OP_ALL", SSL_OP_ALL & ~SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS);
  INT("OP_NO_SSLv2", 0);
  INT("OP_NO_SSLv3", SSL_OP_NO_SSLv3);
  INT("OP_NO_TLSv1", SSL_OP_NO_TLSv1);
  INT("OP_NO_TLSv1_1", SSL_OP_NO_TLSv1_1);
  INT("OP_NO_TLSv1_2", SSL_OP_NO_TLSv1_2);
  INT("OP_NO_TLSv1_3", SSL_OP_NO_TLSv1_3);
  INT("OP_CIPHER_SERVER_PREFERENCE", SSL_OP_CIPHER_SERVER_PREFERENCE);
  INT("OP_SINGLE_DH_USE", SSL_OP_SINGLE_DH_USE);
  INT("OP_SINGLE_ECDH_USE", SSL_OP_SINGLE_ECDH_USE);
  INT("OP_NO_COMPRESSION", SSL_OP_NO_COMPRESSION);
  INT("OP_ENABLE_MIDDLEBOX_COMPAT", SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
  INT("OP_NO_TICKET", SSL_OP_NO_TICKET);
  INT("OP_NO_RENEGOTIATION", SSL_OP_NO_RENEGOTIATION);
  INT("OP_IGNORE_UNEXPECTED_EOF", SSL_OP_IGNORE_UNEXPECTED_EOF);
  INT("ALERT_DESCRIPTION_CLOSE_NOTIFY", SSL_AD_CLOSE_NOTIFY);
  INT("ALERT_DESCRIPTION_UNEXPECTED_MESSAGE", SSL_AD_UNEXPECTED_MESSAGE);
  INT("ALERT_DESCRIPTION_BAD_RECORD_MAC", SSL_AD_BAD_RECORD_MAC);
  INT("ALERT_DESCRIPTION_RECORD_OVERFLOW", SSL_AD_RECORD_OVERFLOW);
  INT("ALERT_DESCRIPTION_DECOMPRESSION_FAILURE", SSL_AD_DECOMPRESSION_FAILURE);
  INT("ALERT_DESCRIPTION_HANDSHAKE_FAILURE", SSL_AD_HANDSHAKE_FAILURE);
  INT("ALERT_DESCRIPTION_BAD_CERTIFICATE", SSL_AD_BAD_CERTIFICATE);
  INT("ALERT_DESCRIPTION_UNSUPPORTED_CERTIFICATE", SSL_AD_UNSUPPORTED_CERTIFICATE);
  INT("ALERT_DESCRIPTION_CERTIFICATE_REVOKED", SSL_AD_CERTIFICATE_REVOKED);
  INT("ALERT_DESCRIPTION_CERTIFICATE_EXPIRED", SSL_AD_CERTIFICATE_EXPIRED);
  INT("ALERT_DESCRIPTION_CERTIFICATE_UNKNOWN", SSL_AD_CERTIFICATE_UNKNOWN);
  INT("ALERT_DESCRIPTION_ILLEGAL_PARAMETER", SSL_AD_ILLEGAL_PARAMETER);
  INT("ALERT_DESCRIPTION_UNKNOWN_CA", SSL_AD_UNKNOWN_CA);
  INT("ALERT_DESCRIPTION_ACCESS_DENIED", SSL_AD_ACCESS_DENIED);
  INT("ALERT_DESCRIPTION_DECODE_ERROR", SSL_AD_DECODE_ERROR);
  INT("ALERT_DESCRIPTION_DECRYPT_ERROR", SSL_AD_DECRYPT_ERROR);
  INT("ALERT_DESCRIPTION_PROTOCOL_VERSION", SSL_AD_PROTOCOL_VERSION);
  INT("ALERT_DESCRIPTION_INSUFFICIENT_SECURITY", SSL_AD_INSUFFICIENT_SECURITY);
  INT("ALERT_DESCRIPTION_INTERNAL_ERROR", SSL_AD_INTERNAL_ERROR);
  INT("ALERT_DESCRIPTION_USER_CANCELLED", SSL_AD_USER_CANCELLED);
  INT("ALERT_DESCRIPTION_NO_RENEGOTIATION", SSL_AD_NO_RENEGOTIATION);
  INT("ALERT_DESCRIPTION_UNSUPPORTED_EXTENSION", SSL_AD_UNSUPPORTED_EXTENSION);
  INT("ALERT_DESCRIPTION_CERTIFICATE_UNOBTAINABLE", SSL_AD_CERTIFICATE_UNOBTAINABLE);
  INT("ALERT_DESCRIPTION_UNRECOGNIZED_NAME", SSL_AD_UNRECOGNIZED_NAME);
  INT("ALERT_DESCRIPTION_BAD_CERTIFICATE_STATUS_RESPONSE", SSL_AD_BAD_CERTIFICATE_STATUS_RESPONSE);
  INT("ALERT_DESCRIPTION_BAD_CERTIFICATE_HASH_VALUE", SSL_AD_BAD_CERTIFICATE_HASH_VALUE);
  INT("ALERT_DESCRIPTION_UNKNOWN_PSK_IDENTITY", SSL_AD_UNKNOWN_PSK_IDENTITY);
  INT("VERIFY_DEFAULT", 0);
  INT("VERIFY_CRL_CHECK_LEAF", X509_V_FLAG_CRL_CHECK);
  INT("VERIFY_CRL_CHECK_CHAIN", X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  INT("VERIFY_X509_STRICT", X509_V_FLAG_X509_STRICT);
  INT("VERIFY_ALLOW_PROXY_CERTS", X509_V_FLAG_ALLOW_PROXY_CERTS);
  INT("VERIFY_X509_TRUSTED_FIRST", X509_V_FLAG_TRUSTED_FIRST);
  INT("VERIFY_X509_PARTIAL_CHAIN", X509_V_FLAG_PARTIAL_CHAIN);
  INT("SSL3_VERSION", SSL3_VERSION);
  INT("TLS1_VERSION", TLS1_VERSION);
  INT("TLS1_1_VERSION", TLS1_1_VERSION);
  INT("TLS1_2_VERSION", TLS1_2_VERSION);
  INT("TLS1_3_VERSION", TLS1_3_VERSION);
#undef INT
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "HAS_TLSv1_3");
}

int ms_open_ssl(lua_State *L) {
  static const luaL_Reg ctx_methods[] = {
      {"load_cert_chain", context_load_cert_chain},
      {"load_verify_locations", context_load_verify_locations},
      {"set_default_verify_paths", context_set_default_verify_paths},
      {"set_ciphers", context_set_ciphers},
      {"get_ciphers", context_get_ciphers},
      {"set_alpn", context_set_alpn},
      {"set_alpn_callback", context_set_alpn_callback},
      {"set_ecdh_curve", context_set_ecdh_curve},
      {"set_verify_depth", context_set_verify_depth},
      {"dane_enable", context_dane_enable},
      {"set_ciphersuites", context_set_ciphersuites},
      {"set_groups_list", context_set_groups_list},
      {"get", context_get},
      {"set", context_set},
      {"cert_store_stats", context_cert_store_stats},
      {"get_ca_certs", context_get_ca_certs},
      {"session_stats", context_session_stats},
      {"set_keylog", context_set_keylog},
      {"set_servername_callback", context_set_servername_callback},
      {"close", context_close},
      {NULL, NULL}};
  static const luaL_Reg conn_methods[] = {
      {"do_handshake", conn_do_handshake},
      {"read", conn_read},
      {"write", conn_write},
      {"writeall", conn_writeall},
      {"shutdown", conn_shutdown},
      {"pending", conn_pending},
      {"handshake_done", conn_handshake_done},
      {"version", conn_version},
      {"cipher", conn_cipher},
      {"shared_ciphers", conn_shared_ciphers},
      {"alpn", conn_alpn},
      {"peer_cert", conn_peer_cert},
      {"chain", conn_chain},
      {"verify_result", conn_verify_result},
      {"verify_errors", conn_verify_errors},
      {"dane_enable", conn_dane_enable},
      {"dane_tlsa_add", conn_dane_tlsa_add},
      {"channel_binding", conn_channel_binding},
      {"finished", conn_finished},
      {"session_reused", conn_session_reused},
      {"server_side", conn_server_side},
      {"verify_client_post_handshake", conn_verify_client_post_handshake},
      {"get_session", conn_get_session},
      {"set_session", conn_set_session},
      {"set_owner", conn_set_owner},
      {"set_context", conn_set_context},
      {"close", conn_close},
      {NULL, NULL}};
  static const luaL_Reg bio_methods[] = {
      {"read", membio_read},       {"write", membio_write}, {"write_eof", membio_write_eof},
      {"pending", membio_pending}, {"eof", membio_eof},     {"close", membio_close},
      {NULL, NULL}};
  static const luaL_Reg funcs[] = {
      {"context", context_new},
      {"connection", conn_new},
      {"MemoryBIO", membio_new},
      {"set_error_factory", set_error_factory},
      {"decode_cert", mod_decode_cert},
      {"RAND_bytes", mod_rand_bytes},
      {"RAND_status", mod_rand_status},
      {"default_verify_paths", mod_default_verify_paths},
      {"b64encode", mod_b64encode},
      {"b64decode", mod_b64decode},
      {"luasec_x509", mod_luasec_x509},
      {"luasec_digest", mod_luasec_digest},
      {NULL, NULL}};
  if (ex_alpn < 0) {
    ex_alpn = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_alpn);
    ex_pha = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ex_keylog = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_keylog);
  }
  static const struct { const char *name; const luaL_Reg *methods; lua_CFunction close; } types[] = {
      {CTX_META, ctx_methods, context_close},
      {CONN_META, conn_methods, conn_close},
      {BIO_META, bio_methods, membio_close}};
  for (size_t i = 0; i < 3; i++) {
    luaL_newmetatable(L, types[i].name);
    lua_newtable(L);
    luaL_setfuncs(L, types[i].methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, types[i].close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, types[i].close);
    lua_setfield(L, -2, "__close");
    lua_pop(L, 1);
  }
  luaL_newlib(L, funcs);
  set_constants(L);
  return 1;
}
