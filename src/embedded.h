/* The Lua modules compiled into the binary by scripts/embed-lua. */
#ifndef MS_EMBEDDED_H
#define MS_EMBEDDED_H
#include <stddef.h>
typedef struct ms_embedded {
  const char *name;      /* module name, as given to require */
  const char *chunkname; /* "@lua/socket.lua": tracebacks name the source file */
  const char *source;
  size_t size;
} ms_embedded;
extern const ms_embedded ms_embedded_modules[];
#endif
