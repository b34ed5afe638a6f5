/*
 * socket's integer constants: every integer-valued public name of Python 3's
 * socket module (AF_*, SOCK_*, SO_*, IPPROTO_*, TCP_*, MSG_*, EAI_*, CAN_*,
 * TIPC_*, ...), under Python's spelling, with the value of this platform's C
 * headers, never a value written down by hand.
 *
 * Why the file is shaped this way:
 * - The names come from constants.inc, which scripts/gen-constants writes
 *   from Python's list (sorted, one MS_CONST(NAME) per name). A macro cannot
 *   ask whether a name is defined, so each entry sits under its own
 *   #ifdef NAME there: a platform without the name simply lacks it, and no
 *   other platform's value can leak in.
 * - glibc and Linux's uapi headers declare some names only as enum
 *   constants, with no #define to test, so #ifdef skips them. Those are set
 *   again below (MS_ENUM), each group guarded by Linux plus a macro of the
 *   header that declares it; gen-constants probes the compiler for this set
 *   and fails if the list here differs from what it finds.
 * - Python spells the CAN broadcast manager's names its own way
 *   (CAN_BCM_TX_SETUP for <linux/can/bcm.h>'s TX_SETUP): MS_ALIAS keeps
 *   Python's spelling and reads the header's.
 * - Names that Python makes up when the headers lack them (ALG_SET_PUBKEY,
 *   ALG_OP_SIGN, ALG_OP_VERIFY, UDPLITE_SEND_CSCOV, UDPLITE_RECV_CSCOV on
 *   Linux) are not constants of any header here, so moonsock has none of
 *   them; gen-constants lists each with its reason.
 * gen-constants also compiles the headers between the two marker comments
 * below and checks every value against Python's before writing the list.
 */
#include "ms.h"

/* gen-constants: headers begin */
#include <errno.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <netdb.h>
#if defined __linux__ && defined __has_include
#  if __has_include(<netpacket/packet.h>)
#    include <netpacket/packet.h>
#  endif
#  if __has_include(<linux/netlink.h>)
#    include <linux/netlink.h>
#  endif
#  if __has_include(<linux/tipc.h>)
#    include <linux/tipc.h>
#  endif
#  if __has_include(<linux/can.h>)
#    include <linux/can.h>
#  endif
#  if __has_include(<linux/can/raw.h>)
#    include <linux/can/raw.h>
#  endif
#  if __has_include(<linux/can/bcm.h>)
#    include <linux/can/bcm.h>
#  endif
#  if __has_include(<linux/can/j1939.h>)
#    include <linux/can/j1939.h>
#  endif
#  if __has_include(<linux/if_alg.h>)
#    include <linux/if_alg.h>
#  endif
#  if __has_include(<linux/vm_sockets.h>)
#    include <sys/ioctl.h> /* _IO, for IOCTL_VM_SOCKETS_GET_LOCAL_CID */
#    include <linux/vm_sockets.h>
#  endif
#endif
/* gen-constants: headers end */

static void constants_set_int(lua_State *L, const char *name, lua_Integer value) {
  lua_pushinteger(L, value);
  lua_setfield(L, -2, name);
}

/* NAME, read from the header of the same name. */
#define MS_CONST(name) constants_set_int(L, #name, (lua_Integer)(name));
/* The same for a name the headers declare only as an enum constant. */
#define MS_ENUM(name) MS_CONST(name)
/* Python's name pyname for the header's cname. */
#define MS_ALIAS(pyname, cname) constants_set_int(L, #pyname, (lua_Integer)(cname));

void ms_socket_constants(lua_State *L) {
#include "constants.inc"

  /* Enum-only names (no #define of the same name), by header. */
#if defined __GLIBC__ /* <netinet/in.h>: an enum; some other libcs #define it */
  MS_ENUM(IPPORT_USERRESERVED)
#endif
#if defined __linux__ && defined SOL_CAN_RAW /* <linux/can/raw.h> */
  MS_ENUM(CAN_RAW_FD_FRAMES)
  MS_ENUM(CAN_RAW_FILTER)
  MS_ENUM(CAN_RAW_JOIN_FILTERS)
  MS_ENUM(CAN_RAW_LOOPBACK)
  MS_ENUM(CAN_RAW_RECV_OWN_MSGS)
#endif
#if defined __linux__ && defined J1939_PGN_MAX /* <linux/can/j1939.h> */
  MS_ENUM(J1939_EE_INFO_NONE)
  MS_ENUM(J1939_EE_INFO_TX_ABORT)
  MS_ENUM(J1939_NLA_BYTES_ACKED)
  MS_ENUM(J1939_NLA_PAD)
  MS_ENUM(SCM_J1939_DEST_ADDR)
  MS_ENUM(SCM_J1939_DEST_NAME)
  MS_ENUM(SCM_J1939_ERRQUEUE)
  MS_ENUM(SCM_J1939_PRIO)
  MS_ENUM(SO_J1939_ERRQUEUE)
  MS_ENUM(SO_J1939_FILTER)
  MS_ENUM(SO_J1939_PROMISC)
  MS_ENUM(SO_J1939_SEND_PRIO)
#endif
#if defined __linux__ && defined TIPC_TOP_SRV /* <linux/tipc.h> */
  MS_ENUM(TIPC_CLUSTER_SCOPE)
  MS_ENUM(TIPC_NODE_SCOPE)
#endif

  /* Python's CAN_BCM_* names for <linux/can/bcm.h>: its opcodes are an enum,
   * its flags macros. */
#if defined __linux__ && defined SETTIMER
  MS_ALIAS(CAN_BCM_RX_CHANGED, RX_CHANGED)
  MS_ALIAS(CAN_BCM_RX_DELETE, RX_DELETE)
  MS_ALIAS(CAN_BCM_RX_READ, RX_READ)
  MS_ALIAS(CAN_BCM_RX_SETUP, RX_SETUP)
  MS_ALIAS(CAN_BCM_RX_STATUS, RX_STATUS)
  MS_ALIAS(CAN_BCM_RX_TIMEOUT, RX_TIMEOUT)
  MS_ALIAS(CAN_BCM_TX_DELETE, TX_DELETE)
  MS_ALIAS(CAN_BCM_TX_EXPIRED, TX_EXPIRED)
  MS_ALIAS(CAN_BCM_TX_READ, TX_READ)
  MS_ALIAS(CAN_BCM_TX_SEND, TX_SEND)
  MS_ALIAS(CAN_BCM_TX_SETUP, TX_SETUP)
  MS_ALIAS(CAN_BCM_TX_STATUS, TX_STATUS)
#endif
#ifdef CAN_FD_FRAME
  MS_ALIAS(CAN_BCM_CAN_FD_FRAME, CAN_FD_FRAME)
#endif
#ifdef RX_ANNOUNCE_RESUME
  MS_ALIAS(CAN_BCM_RX_ANNOUNCE_RESUME, RX_ANNOUNCE_RESUME)
#endif
#ifdef RX_CHECK_DLC
  MS_ALIAS(CAN_BCM_RX_CHECK_DLC, RX_CHECK_DLC)
#endif
#ifdef RX_FILTER_ID
  MS_ALIAS(CAN_BCM_RX_FILTER_ID, RX_FILTER_ID)
#endif
#ifdef RX_NO_AUTOTIMER
  MS_ALIAS(CAN_BCM_RX_NO_AUTOTIMER, RX_NO_AUTOTIMER)
#endif
#ifdef RX_RTR_FRAME
  MS_ALIAS(CAN_BCM_RX_RTR_FRAME, RX_RTR_FRAME)
#endif
#ifdef SETTIMER
  MS_ALIAS(CAN_BCM_SETTIMER, SETTIMER)
#endif
#ifdef STARTTIMER
  MS_ALIAS(CAN_BCM_STARTTIMER, STARTTIMER)
#endif
#ifdef TX_ANNOUNCE
  MS_ALIAS(CAN_BCM_TX_ANNOUNCE, TX_ANNOUNCE)
#endif
#ifdef TX_COUNTEVT
  MS_ALIAS(CAN_BCM_TX_COUNTEVT, TX_COUNTEVT)
#endif
#ifdef TX_CP_CAN_ID
  MS_ALIAS(CAN_BCM_TX_CP_CAN_ID, TX_CP_CAN_ID)
#endif
#ifdef TX_RESET_MULTI_IDX
  MS_ALIAS(CAN_BCM_TX_RESET_MULTI_IDX, TX_RESET_MULTI_IDX)
#endif

  /* Python's has_ipv6 says whether the build supports IPv6. */
#ifdef AF_INET6
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "has_ipv6");
}
