/*
 * TLS record plumbing under the ssl module, free of Lua: the socket BIO that
 * OpenSSL reads and writes a moonsock socket's fd through, and the names
 * Python gives OpenSSL's error codes. ssl.c binds them.
 */
#ifndef MS_TLS_H
#define MS_TLS_H

#include <openssl/bio.h>

/* A BIO over the non-blocking socket fd (not owned: freeing the BIO leaves
 * the fd open), that says "retry" on EAGAIN and never raises SIGPIPE. After
 * a failed read or write, ms_tls_bio_errno gives the errno it saw (0 for
 * none, or for end of file). NULL when out of memory. */
BIO *ms_tls_socket_bio(int fd);
int ms_tls_bio_errno(BIO *bio);

/* Python's mnemonic for an OpenSSL library ("SSL", "X509", "PEM"...) and for
 * a reason code of that library ("CERTIFICATE_VERIFY_FAILED"), or NULL. */
const char *ms_tls_lib_name(int lib);
const char *ms_tls_reason_name(int lib, int reason);

#endif
