/*
 * Name lookups with no Lua in sight: the calls the resolver bindings
 * (resolver.c) run on libuv's thread pool, and the blocks that carry their
 * inputs and results between the loop thread and the pool.
 *
 * A binding allocates a block (ms_work_new), fills in the inputs, and hands
 * lookup_*_run to the pool; the run function calls libc there and records
 * how it failed in the block's lookup_status, which the binding raises back
 * on the loop thread. lookup_*_free releases what a run left in its block.
 * Every block begins with its lookup_status, so the bindings can reach the
 * status of any block through a pointer to the block.
 */
#ifndef MS_LOOKUP_H
#define MS_LOOKUP_H

#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>

/* Python's gethostname() buffer, also getfqdn's smallest name buffer. */
#define LOOKUP_HOSTNAME_MAX 1024

/* How a pool-thread call failed. */
enum lookup_kind {
  LOOKUP_OK = 0,
  LOOKUP_GAI,   /* gaierror(code, gai_strerror(code)) */
  LOOKUP_HERR,  /* herror(code, hstrerror(code)) */
  LOOKUP_ERRNO, /* OSError subclass for errno code */
  LOOKUP_MSG    /* OSError(msg), errno None */
};

typedef struct lookup_status {
  int kind;        /* an enum lookup_kind */
  int code;
  const char *msg; /* LOOKUP_MSG: a static string */
} lookup_status;

/* gethostbyname: name in, the IPv4 address out. */
typedef struct lookup_byname {
  lookup_status st;
  struct sockaddr_storage addr;
  char name[]; /* the host, copied */
} lookup_byname;

void lookup_byname_run(void *block);

/* One block for the three hostent-based calls (gethostbyname_ex,
 * gethostbyaddr, getfqdn): run() fills he and buf, which stay alive until
 * lookup_host_free so the continuation can read them in place. */
typedef struct lookup_host {
  lookup_status st;
  struct hostent he;
  struct hostent *h; /* &he on success */
  char *buf;         /* gethostby*_r's storage, malloc'd */
  int af;            /* the family setipaddr resolved the name to */
  const char *fqdn;  /* getfqdn's answer: into name or buf */
  size_t cap;        /* bytes available at name */
  char name[];
} lookup_host;

void lookup_byname_ex_run(void *block);
void lookup_byaddr_run(void *block);
void lookup_fqdn_run(void *block);
void lookup_host_free(void *block);

/* getaddrinfo: host and port (NULL, or C strings into data) and hints in,
 * the addrinfo list out. */
typedef struct lookup_gai {
  lookup_status st;
  struct addrinfo hints;
  struct addrinfo *res;
  const char *host, *port;
  char data[];
} lookup_gai;

void lookup_gai_run(void *block);
void lookup_gai_free(void *block);

/* getnameinfo: a numeric host, port, flags and the sockaddr tuple's length
 * and extra fields in; host and service text out. */
typedef struct lookup_gni {
  lookup_status st;
  int port, flags, ntuple;
  unsigned flowinfo, scope_id;
  char hbuf[NI_MAXHOST];
  char pbuf[NI_MAXSERV];
  char host[];
} lookup_gni;

void lookup_gni_run(void *block);

/* The services and protocols databases are local files, read in place on
 * the loop thread as CPython does (through the _r calls, clear of the static
 * buffer other threads of an embedding host might be using). Each returns 1
 * when found (the answer in *port, *name or *proto; *name is malloc'd, the
 * caller frees it), 0 when not, -1 when out of memory. */
int lookup_servbyname(const char *name, const char *proto, int *port);
int lookup_servbyport(int port, const char *proto, char **name);
int lookup_protobyname(const char *name, int *proto);

#endif
