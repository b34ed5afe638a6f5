"""Cases for spec/ipaddress_spec.lua, answered by this python3's ipaddress.

Every case is printed as one line of Lua, C{op=..., ..., want=...}, where want
is Python's answer written canonically: repr() of the value (ints in decimal,
generators as lists), "ABSENT" for an attribute Python does not have, or
"EXC Class: message" for an exception. The spec evaluates the same operation
with lua/ipaddress.lua, writes its answer the same way, and compares.

The documented Lua rules are applied here too: an all-digit string given
where the Lua module takes an integer stands for that integer; a value too
large for a Lua integer is given to Lua as a decimal string (I"...").
"""
import ipaddress
import random
import re
import sys

R = random.Random(20240611)
DIGITS = re.compile(r"-?[0-9]+", re.ASCII)
OUT = []
COUNT = 0


# ---- value specs: ("int", n) ("str", s) ("bytes", b) ("tuple", [specs])
# ("list", [specs]) ("obj", ctor, spec, strict|None) ("kw", {name: int})

def I(n): return ("int", n)
def S(s): return ("str", s)
def B(b): return ("bytes", b)
def T(*xs): return ("tuple", list(xs))
def L(xs): return ("list", list(xs))
def O(ctor, arg, strict=None):
    if isinstance(arg, str):
        arg = S(arg)
    elif isinstance(arg, int):
        arg = I(arg)
    return ("obj", ctor, arg, strict)


def ev(spec, ctor_arg=False):
    kind = spec[0]
    if kind == "int":
        return spec[1]
    if kind == "str":
        s = spec[1]
        # The Lua rule: an all-digit string where an int is taken is that int.
        if ctor_arg and DIGITS.fullmatch(s):
            return int(s)
        return s
    if kind == "bytes":
        return spec[1]
    if kind == "tuple":
        items = spec[1]
        return tuple([ev(items[0], True)] + [ev(x) for x in items[1:]]) if items else ()
    if kind == "list":
        return [ev(x) for x in spec[1]]
    if kind == "obj":
        ctor = getattr(ipaddress, spec[1])
        arg = ev(spec[2], True)
        return ctor(arg) if spec[3] is None else ctor(arg, spec[3])
    raise AssertionError(spec)


def lua_str(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    out = []
    for b in s:
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append("\\%03d" % b)
    return '"' + "".join(out) + '"'


def lua(spec):
    kind = spec[0]
    if kind == "int":
        return 'I"%d"' % spec[1]
    if kind == "str":
        return "S" + lua_str(spec[1])
    if kind == "bytes":
        return "B" + lua_str(spec[1])
    if kind in ("tuple", "list"):
        return kind[0].upper() + "{" + ",".join(lua(x) for x in spec[1]) + "}"
    if kind == "obj":
        extra = "" if spec[3] is None else ("," + ("true" if spec[3] else "false"))
        return "O(%s,%s%s)" % (lua_str(spec[1]), lua(spec[2]), extra)
    if kind == "kw":
        return "{" + ",".join("%s=%d" % kv for kv in sorted(spec[1].items())) + "}"
    if spec is True or spec is False:
        return "true" if spec else "false"
    raise AssertionError(spec)


IPTYPES = (ipaddress._BaseAddress, ipaddress._BaseNetwork)


def canon(v):
    if isinstance(v, bool):
        return "True" if v else "False"
    if v is None:
        return "None"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (str, bytes)):
        return repr(v)
    if isinstance(v, IPTYPES):
        return repr(v)
    if isinstance(v, tuple):
        return "(" + ", ".join(canon(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(canon(x) for x in v) + "]"
    if hasattr(v, "__next__"):
        return canon(list(v))
    raise AssertionError(repr(v))


def outcome(f):
    try:
        return canon(f())
    except AttributeError:
        return "ABSENT"
    except Exception as e:  # every other exception is an answer to compare
        return "EXC %s: %s" % (type(e).__name__, e)


def emit(fields, want):
    global COUNT
    COUNT += 1
    parts = []
    for k, v in fields:
        parts.append("%s=%s" % (k, v))
    parts.append("want=" + lua_str(want))
    OUT.append("C{" + ",".join(parts) + "}")


# ---- the operations (each mirrored by the spec) ----

def new(ctor, arg, strict=None):
    def f():
        c = getattr(ipaddress, ctor)
        a = ev(arg, True)
        return c(a) if strict is None else c(a, strict)
    args = lua(arg) + ("" if strict is None else "," + ("true" if strict else "false"))
    emit([("op", '"new"'), ("name", lua_str(ctor)), ("args", "{" + args + "}")], outcome(f))


def get(obj, name):
    emit([("op", '"get"'), ("obj", lua(obj)), ("name", lua_str(name))],
         outcome(lambda: getattr(ev(obj), name)))


PYCALL = {
    "iter": lambda o: iter(o),
    "getitem": lambda o, n: o[n],
    "contains": lambda o, x: x in o,
    "format": lambda o, s: format(o, s),
    "int": lambda o: int(o),
    "repr": lambda o: repr(o),
    "str": lambda o: str(o),
    "key": lambda o: None,
}


def call(obj, name, *args, kw=None):
    def f():
        o = ev(obj)
        a = [ev(x) for x in args]
        if name in PYCALL:
            return PYCALL[name](o, *a)
        return getattr(o, name)(*a, **(kw or {}))
    fields = [("op", '"call"'), ("obj", lua(obj)), ("name", lua_str(name)),
              ("args", "{" + ",".join(lua(x) for x in args) + "}")]
    if kw:
        fields.append(("kw", lua(("kw", kw))))
    emit(fields, outcome(f))


BINOPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b, "~=": lambda a, b: a != b,
}


def binop(op, a, b, swapped=False):
    def f():
        x, y = ev(a), ev(b)
        if swapped:
            # The documented difference: Lua's a > b is b < a, a >= b is b <= a
            # (Python answers True both ways for addresses differing in scope only).
            return BINOPS["<" if op == ">" else "<="](y, x)
        if op in (">", ">="):
            # Lua evaluates a > b as b < a (a >= b as b <= a): an error then
            # names the operands in that order.
            try:
                return BINOPS[op](x, y)
            except TypeError:
                return BINOPS["<" if op == ">" else "<="](y, x)
        return BINOPS[op](x, y)
    emit([("op", '"bin"'), ("name", lua_str(op)), ("a", lua(a)), ("b", lua(b))], outcome(f))


def fn(name, *args):
    def f():
        return getattr(ipaddress, name)(*[ev(x) for x in args])
    emit([("op", '"fn"'), ("name", lua_str(name)), ("args", "{" + ",".join(lua(x) for x in args) + "}")],
         outcome(f))


def keyeq(a, b):
    """x:key() == y:key() in Lua must be Python's x == y (and hash agrees)."""
    def f():
        x, y = ev(a), ev(b)
        if x == y:
            assert hash(x) == hash(y)
        return x == y
    emit([("op", '"key"'), ("a", lua(a)), ("b", lua(b))], outcome(f))


def sortkey(items):
    def f():
        return sorted([ev(x) for x in items], key=ipaddress.get_mixed_type_key)
    emit([("op", '"sort"'), ("args", "{" + lua(L(items)) + "}")], outcome(f))


# ---- inputs ----

V4_GOOD = [
    "0.0.0.0", "127.0.0.1", "255.255.255.255", "10.1.2.3", "192.168.0.1", "100.64.0.1",
    "100.127.255.255", "169.254.1.1", "224.0.0.1", "239.255.255.255", "240.0.0.1", "192.0.2.5",
    "198.51.100.7", "203.0.113.9", "172.16.5.4", "172.31.255.255", "172.32.0.0", "8.8.8.8",
    "192.0.0.170", "192.0.0.171", "192.0.0.8", "198.18.0.1", "198.20.0.1", "1.2.3.4", "0.255.0.255",
]
V4_BAD = [
    "", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1..2.3", "1.2.3.", ".1.2.3",
    "a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1.2.3.+4", "1.2.3.-4", "1234.1.1.1", "0x1.2.3.4",
    "1.2.3.4/24", "1.2.3.4/", "\u0661.2.3.4", "1.2.3.\u0664", "1.2.3.4%eth0", "256.256.256.256",
    "999.1.1.1", "0000.1.1.1", "1.2.3.0004", "1e1.1.1.1", "1_0.1.1.1", "1.2.3.4\n", "1.2.3.4\x00",
    "1.2.3.'4'", '1.2."3".4', "1.2.3.\\4", "\u00e9.1.1.1", "....", "1.2.3.4.", "00.0.0.0",
]
V6_GOOD = [
    "::", "::1", "1::", "1::2", "fe80::1", "fe80::1%eth0", "fe80::1%1", "fe80::%eth0", "2001:db8::",
    "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "::ffff:192.0.2.1", "::ffff:7f00:1",
    "::ffff:10.0.0.1", "::ffff:8.8.8.8", "::ffff:100.64.0.1", "2002:c000:0201::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "ff02::1", "fec0::1", "FE80::ABCD", "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:0:0:2:0:0:0:3", "0:0:0:0:0:0:0:0",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "64:ff9b::1.2.3.4", "::1.2.3.4", "100::1",
    "100::1:0:0:0:0", "2001:2::1", "2001:10::1", "2001:20::1", "fc00::1", "fd12:3456::1", "2001::1",
    "2001:200::1", "e000::1", "fe00::1", "0001:0002:0003:0004:0005:0006:0007:0008", "1:0:1:0:1:0:1:0",
    "0:0:1::", "1:2:3:4:5:6:1.2.3.4", "::ffff:0:0", "fe80::1%a'b", 'fe80::1%a"b', "fe80::1%\u00e9",
    "ff00::", "feff::1", "2001:db8:85a3::8a2e:370:7334", "::0:0", "0::0",
]
V6_BAD = [
    ":", ":::", "1:2", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::2", "1::2:", "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::", "g::1", "::1.2.3", "::1.2.3.04",
    "1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3.4:5", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "1::2/64",
    "fe80::1%", "fe80::1%a%b", "::%", "%eth0", "1:2:3:4:5:6:7:8%", "::1 ", " ::1", "::+1", "::-1",
    "::0x1", "1:::2", "1:2:3:4:5:6::7:8:9", "::\u0661", "::1.2.3.4.5", "::256.1.1.1", "1.2.3.4::",
    "::1.2.3.4:1", "1:2:3:4:5:6:7:8:", ":1:2:3:4:5:6:7:8", "::ffff:1.2.3", "fe80::1/", "", "::1::",
    "::00000", "0000::00001", "abcd:", ":abcd", "a:b:c:d:e:f:g:h",
    "1:2:3:4:5:6:7::8", "1::2:3:4:5:6:7:8", "1:2:3:4:5:6::1.2.3.4", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7::",
    "::1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5::1.2.3.4",
]
INT_INPUTS = [0, 1, 255, 2**32 - 1, 2**32, 2**32 + 1, -1, -(2**63), 2**62, 2**63 - 1, 2**63, 2**64,
              2**64 + 5, 2**96 + 7, 2**127, 2**128 - 1, 2**128, 2**129, -(2**64), -(2**128)]
BYTES_INPUTS = [b"\x7f\x00\x00\x01", b"\xc0\x00\x02\x01", b"\x00" * 4, b"\xff" * 4, b"::ff",
                b"\x01\x02\x03", b"\x01\x02\x03\x04\x05", b"", b"\x00" * 16, b"\xff" * 16,
                b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x01", b"2001:db8::1:2:34", b"\x01" * 15,
                b"\x01" * 17, b"'\"\\\n\t\r"]
DIGIT_STRINGS = ["0", "1", "123", "3221225985", "4294967295", "4294967296", "-1", "-5",
                 "42540766411282592856903984951653826560", "340282366920938463463374607431768211455",
                 "340282366920938463463374607431768211456", "0001", "99999999999999999999999999999999999999999"]


def rand_v6_int():
    kind = R.randrange(12)
    if kind == 0:
        return R.getrandbits(128)
    if kind == 1:
        return R.getrandbits(32)
    if kind == 2:
        return 0xFFFF << 32 | R.getrandbits(32)
    if kind == 3:
        return 0x2002 << 112 | R.getrandbits(80) << 32
    if kind == 4:
        return 0x20010000 << 96 | R.getrandbits(96)
    if kind == 5:
        return 0xfe80 << 112 | R.getrandbits(64)
    if kind == 6:
        return 0xfec0 << 112 | R.getrandbits(100)
    if kind == 7:
        return 0xff00 << 112 | R.getrandbits(112)
    if kind == 8:
        return 0xfc00 << 112 | R.getrandbits(121)
    if kind == 9:
        return 0x20010db8 << 96 | R.getrandbits(96)
    # Hextets that are often zero, for the "::" compression.
    v = 0
    for _ in range(8):
        v = v << 16 | (0 if R.random() < 0.55 else R.choice([1, 0xffff, R.getrandbits(16)]))
    return v


def v6_forms(n):
    a = ipaddress.IPv6Address(n)
    forms = [str(a), a.exploded, str(a).upper()]
    low = n & 0xFFFFFFFF
    head = a.exploded.rsplit(":", 2)[0]
    forms.append("%s:%s" % (head, ipaddress.IPv4Address(low)))
    return forms


def mutate(s):
    alphabet = "0123456789abcdefABCDEFgG.:/%-+ x\u00e9"
    for _ in range(R.randint(1, 2)):
        op = R.randrange(5)
        i = R.randrange(len(s) + 1)
        if op == 0 and s:
            s = s[:i] + s[i + 1:]
        elif op == 1:
            s = s[:i] + R.choice(alphabet) + s[i:]
        elif op == 2 and s:
            s = s[:i] + R.choice(alphabet) + s[i + 1:]
        elif op == 3 and s:
            j = R.randrange(len(s) + 1)
            s = s + s[min(i, j):max(i, j)]
        else:
            s = s[:i] + R.choice([":", ".", "::", "%", "/"]) + s[i:]
    return s


ADDR_PROPS = ["version", "max_prefixlen", "compressed", "exploded", "packed", "reverse_pointer",
              "is_private", "is_global", "is_multicast", "is_unspecified", "is_reserved", "is_loopback",
              "is_link_local", "is_site_local", "ipv4_mapped", "sixtofour", "teredo", "scope_id"]
NET_PROPS = ["version", "max_prefixlen", "compressed", "exploded", "reverse_pointer", "network_address",
             "broadcast_address", "hostmask", "netmask", "prefixlen", "num_addresses", "with_prefixlen",
             "with_netmask", "with_hostmask", "is_private", "is_global", "is_multicast", "is_unspecified",
             "is_reserved", "is_loopback", "is_link_local", "is_site_local", "packed", "ip"]
IFACE_PROPS = ADDR_PROPS + ["ip", "network", "netmask", "hostmask", "with_prefixlen", "with_netmask",
                            "with_hostmask", "prefixlen", "num_addresses", "network_address"]
FORMATS = ["", "s", "b", "x", "X", "n", "#b", "#x", "#X", "_b", "_x", "#_x", "#_n", "#_X", ">30s",
           "<30s", "^31s", "*^31s", "x<9s", ".3s", "010s", "20", "d", "#s", "+s", "=20s", ",s", "_s",
           ".s", "10.2s"]


def address_cases(spec):
    for p in ADDR_PROPS:
        get(spec, p)
    for m in ("int", "str", "repr"):
        call(spec, m)


def works(f):
    try:
        f()
        return True
    except Exception:
        return False


def main():
    # ---- addresses from text ----
    texts = V4_GOOD + V4_BAD + V6_GOOD + V6_BAD
    for _ in range(60):
        texts.append(str(ipaddress.IPv4Address(R.getrandbits(32))))
    for _ in range(60):
        texts.extend(v6_forms(rand_v6_int()))
    for _ in range(350):
        texts.append(mutate(R.choice(V4_GOOD + V6_GOOD)))
    seen = set()
    uniq = []
    for t in texts:
        if t not in seen:
            seen.add(t)
            uniq.append(t)
    for t in uniq:
        for ctor in ("IPv4Address", "IPv6Address", "ip_address"):
            new(ctor, S(t))
    for t in uniq:
        if works(lambda: ipaddress.ip_address(t)) and not DIGITS.fullmatch(t):
            address_cases(O("ip_address", t))

    # ---- addresses from integers, digit strings, bytes, objects, pairs ----
    for n in INT_INPUTS + [R.getrandbits(32) for _ in range(10)] + [rand_v6_int() for _ in range(20)]:
        for ctor in ("IPv4Address", "IPv6Address", "ip_address", "IPv4Network", "IPv6Network",
                     "ip_network", "ip_interface", "IPv6Interface"):
            new(ctor, I(n))
        if works(lambda: ipaddress.ip_address(n)):
            address_cases(O("ip_address", n))
    for s in DIGIT_STRINGS:
        for ctor in ("IPv4Address", "IPv6Address", "ip_address", "ip_network", "ip_interface"):
            new(ctor, S(s))
    for b in BYTES_INPUTS:
        for ctor in ("IPv4Address", "IPv6Address", "ip_address", "ip_network", "ip_interface",
                     "IPv4Network", "IPv6Interface"):
            new(ctor, B(b))
    for t in ("1.2.3.4", "::1", "10.0.0.0/8", "10.0.0.1/8", "fe80::1%eth0", "fe80::1%eth0/64"):
        for ctor in ("IPv4Address", "IPv6Address", "ip_address", "ip_network", "ip_interface",
                     "IPv4Interface"):
            new(ctor, O("ip_interface", t))
            new(ctor, O("ip_network", t, False))
            if works(lambda: ipaddress.ip_address(t)):
                new(ctor, O("ip_address", t))

    # ---- networks and interfaces from text ----
    masks4 = ["24", "024", "255.255.255.0", "0.0.0.255", "255.0.255.0", " 24", "+24", "33", "-1", "",
              "0", "32", "255.255.255.255", "0.0.0.0", "31", "1", "0000000000000000000000024", "1e1",
              "255.255.128.0", "0.0.127.255", "255.255.255.254", "128.0.0.0", "0.255.255.255", "24 ",
              "\u0662\u0664", "255.255.255.256", "8", "16", "30", "255.255.0.255"]
    masks6 = ["64", "064", "129", "ffff::", "0", "128", "127", "-1", "", "1", "48", "32", "120", "+64",
              "ffff:ffff:ffff:ffff::", "255.255.255.0", "00128", "96"]
    net_texts = []
    for a in ["192.0.2.0", "192.0.2.1", "10.0.0.0", "0.0.0.0", "255.255.255.255", "100.64.0.0",
              "224.0.0.0", "127.0.0.1", "169.254.0.0", "172.16.0.0", "240.0.0.0", "1.2.3.4"]:
        for m in R.sample(masks4, 10) + ["24", "32", "0"]:
            net_texts.append(a + "/" + m)
        net_texts.append(a)
    for a in ["2001:db8::", "2001:db8::1", "::", "::1", "fe80::", "fe80::1%eth0", "fe80::%eth0", "ff00::",
              "::ffff:0.0.0.0", "fc00::", "2002::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::"]:
        for m in R.sample(masks6, 8) + ["64", "128", "0"]:
            net_texts.append(a + "/" + m)
        net_texts.append(a)
    # Networks straddling the special ranges: one end inside, one outside.
    net_texts.extend([
        "100.0.0.0/9", "100.64.0.0/10", "100.64.0.0/11", "100.0.0.0/8", "100.127.0.0/16", "192.0.0.0/28",
        "192.0.0.0/29", "192.0.0.168/29", "192.0.0.170/31", "172.0.0.0/8", "10.0.0.0/7", "224.0.0.0/3",
        "240.0.0.0/5", "127.0.0.0/7", "169.254.0.0/15", "255.255.255.254/31", "::ffff:0:0/95", "::/127",
        "fe80::/9", "fec0::/9", "ff00::/7", "2001::/22", "2001::/24", "fc00::/6", "::1/128", "::/128",
        "2001:db8::/31", "2001:2::/47", "100::/63", "100::/65", "::ffff:0:0/96", "::ffff:a00:0/104",
    ])
    for extra in ["1.2.3.4/24/8", "/24", "1.2.3.4//24", "::1/64/1", "fe80::1%eth/0/64", "", "/",
                  "1.2.3.4/24%eth0", "fe80::1%eth0/64", "10.0.0.0/8 "]:
        net_texts.append(extra)
    for _ in range(80):
        p = R.randint(0, 32)
        net_texts.append("%s/%d" % (ipaddress.IPv4Address(R.getrandbits(32) & ~((1 << (32 - p)) - 1) if R.random() < 0.6
                                                        else R.getrandbits(32)), p))
    for _ in range(80):
        p = R.randint(0, 128)
        n = rand_v6_int()
        if R.random() < 0.6:
            n &= ~((1 << (128 - p)) - 1)
        net_texts.append("%s/%d" % (ipaddress.IPv6Address(n), p))
    for _ in range(100):
        net_texts.append(mutate(R.choice(net_texts)))
    net_texts = list(dict.fromkeys(net_texts))
    for t in net_texts:
        for ctor, strict in (("IPv4Network", None), ("IPv6Network", None), ("ip_network", None),
                             ("ip_network", False), ("IPv4Network", False), ("IPv6Network", False),
                             ("ip_interface", None), ("IPv4Interface", None), ("IPv6Interface", None)):
            new(ctor, S(t), strict)

    # ---- pairs (address, mask) ----
    pairs = [
        T(S("192.0.2.0"), I(24)), T(S("192.0.2.0"), S("24")), T(S("192.0.2.0"), S("255.255.255.0")),
        T(S("192.0.2.1"), I(24)), T(I(3221225984), I(24)), T(B(b"\xc0\x00\x02\x00"), I(24)),
        T(S("192.0.2.0")), T(S("2001:db8::"), I(32)), T(S("2001:db8::"), S("32")),
        T(I(42540766411282592856903984951653826560), I(32)), T(S("1.2.3.4"), I(33)),
        T(S("1.2.3.4"), I(-1)), T(S("1.2.3.4"), S("33")), T(S("1.2.3.4"), S("0.0.0.255")),
        T(S("::1"), S("ffff::")), T(S("fe80::1%eth0"), I(64)), T(S("fe80::%eth0"), I(64)),
        T(S("1.2.3.4/24"), I(24)), T(S("1.2.3.0"), I(24), I(1)), T(), T(S("10.0.0.0"), I(2**62)), T(S("10.0.0.0"), I(2**63 - 1)), T(S("10.0.0.0"), S(str(2**70))),
        T(S("::"), I(-(2**63))),
        T(I(2**32), I(96)), T(S("3221225984"), I(24)), T(O("ip_address", "10.0.0.0"), I(8)),
        T(B(b"\x00" * 16), I(0)), T(S("::"), I(129)), T(S("0.0.0.0"), S("")),
    ]
    for p in pairs:
        for ctor, strict in (("IPv4Network", None), ("IPv6Network", None), ("ip_network", None),
                             ("ip_network", False), ("ip_interface", None), ("IPv4Interface", None),
                             ("IPv6Interface", None)):
            new(ctor, p, strict)

    # ---- properties and methods of networks ----
    nets = []
    for t in net_texts:
        if works(lambda: ipaddress.ip_network(t, False)):
            nets.append(O("ip_network", t, False))
    for t in nets:
        for p in NET_PROPS:
            get(t, p)
        call(t, "str")
        call(t, "repr")
        net = ev(t)
        size = net.num_addresses
        if size <= 64:
            call(t, "iter")
            call(t, "hosts")
        else:
            call(t, "getitem", I(size - 1))
            call(t, "getitem", I(-size))
            call(t, "getitem", I(R.randrange(size)))
        for n in (0, 1, -1, size, -size - 1, -2):
            call(t, "getitem", I(n))
        pl, mx = net.prefixlen, net.max_prefixlen
        if mx - pl <= 5:
            call(t, "subnets")
            call(t, "subnets", I(2))
        else:
            call(t, "subnets", I(R.randint(1, 5)))
            call(t, "subnets", kw={"new_prefix": pl + R.randint(1, 4)})
        call(t, "subnets", I(mx - pl + 1))
        call(t, "subnets", I(-1))
        call(t, "subnets", kw={"new_prefix": pl - 1})
        call(t, "subnets", I(2), I(pl + 2))
        call(t, "subnets", kw={"prefixlen_diff": 1, "new_prefix": min(mx, pl + 1)})
        call(t, "supernet")
        call(t, "supernet", I(R.randint(0, 40)))
        call(t, "supernet", kw={"new_prefix": R.randint(-1, pl + 1)})
        call(t, "supernet", I(-1))
        call(t, "supernet", I(3), I(pl - 3))
        call(t, "compare_networks", R.choice(nets))
        call(t, "overlaps", R.choice(nets))
        call(t, "subnet_of", R.choice(nets))
        call(t, "supernet_of", R.choice(nets))
        call(t, "subnet_of", O("ip_address", "1.2.3.4"))
        for f in ("", "s"):
            call(t, "format", S(f))
        if pl < mx:
            # An exclusion inside the network: a random subnet of it.
            sub_p = R.randint(pl + 1, min(mx, pl + 24))
            base = int(net.network_address) + (R.getrandbits(mx - pl) & ~((1 << (mx - sub_p)) - 1))
            sub = ipaddress.ip_network((base, sub_p))
            call(t, "address_exclude", O("ip_network", str(sub)))
            call(t, "contains", O("ip_address", base))
            call(t, "contains", O("ip_address", str(net.broadcast_address)))
        call(t, "address_exclude", t)
        call(t, "address_exclude", R.choice(nets))
        call(t, "address_exclude", O("ip_address", "1.2.3.4"))
        call(t, "address_exclude", O("ip_address", "::1"))
        call(t, "contains", O("ip_address", "1.2.3.4"))
        call(t, "contains", O("ip_address", "::1"))
        call(t, "contains", t)
        call(t, "contains", O("ip_interface", "10.1.2.3/8"))

    # ---- interfaces ----
    ifaces = []
    for t in net_texts:
        if works(lambda: ipaddress.ip_interface(t)):
            ifaces.append(O("ip_interface", t))
    for t in ifaces:
        for p in IFACE_PROPS:
            get(t, p)
        for m in ("int", "str", "repr"):
            call(t, m)
        call(t, "format", S(R.choice(FORMATS)))

    # ---- format ----
    for t in ["1.2.3.4", "255.0.0.1", "::1", "2001:db8::1", "fe80::1%eth0", "0.0.0.0"]:
        for f in FORMATS:
            call(O("ip_address", t), "format", S(f))

    # ---- arithmetic ----
    addrs = [O("ip_address", t) for t in uniq if works(lambda: ipaddress.ip_address(t))
             and not DIGITS.fullmatch(t)]
    edges = [
        ("255.255.255.255", 1), ("255.255.255.255", 0), ("0.0.0.0", -1), ("0.0.0.0", 2**32 - 1),
        ("0.0.0.0", 2**32), ("1.2.3.4", -(2**64)), ("1.2.3.4", 2**70),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1), ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", -(2**128 - 1)), ("::", -1), ("::", 2**128 - 1),
        ("::", 2**128), ("::", 2**64), ("::", 2**63), ("::", 2**62), ("::ffff:ffff:ffff:ffff", 1),
        ("::ffff:ffff", 1), ("::1:0:0:0:0", -1), ("fe80::1%eth0", 1), ("::", 2**63 - 1),
        ("8000::", -(2**127)), ("8000::", -(2**127) - 1), ("::", -(2**63)), ("::1", -(2**200)),
    ]
    for t, n in edges:
        binop("+", O("ip_address", t), I(n))
        binop("-", O("ip_address", t), I(-n))
    for a in R.sample(addrs, 120):
        v = ev(a)
        big = 2**32 if v.version == 4 else 2**128
        for n in (R.randrange(-big, big), R.randrange(-1000, 1000), R.getrandbits(63)):
            binop(R.choice(["+", "-"]), a, I(n))
    for t in ["1.2.3.4/24", "::1/64", "255.255.255.255/32", "fe80::1%eth0/64"]:
        binop("+", O("ip_interface", t), I(1))
        binop("-", O("ip_interface", t), I(5))
    binop("+", O("ip_network", "10.0.0.0/8"), I(1))
    binop("-", O("ip_network", "::/0"), I(1))
    binop("-", O("ip_address", "1.2.3.4"), O("ip_address", "1.2.3.0"))
    binop("+", O("ip_address", "1.2.3.4"), O("ip_address", "1.2.3.0"))
    binop("+", I(1), O("ip_address", "1.2.3.4"))
    binop("-", I(1), O("ip_address", "::1"))
    binop("+", O("ip_address", "1.2.3.4"), S("x"))

    # ---- comparisons and keys ----
    pool = []
    for t in ["1.2.3.4", "1.2.3.5", "::1", "::2", "fe80::1", "fe80::1%eth0", "fe80::1%eth1", "0.0.0.0"]:
        pool.append(O("ip_address", t))
    for t in ["1.2.3.4/24", "1.2.3.4/32", "1.2.3.5/24", "1.2.3.4/16", "::1/64", "::1/128", "fe80::1%eth0/64",
              "fe80::1/64", "fe80::%eth0/64", "fe80::/64"]:
        pool.append(O("ip_interface", t))
    for t in ["1.2.3.0/24", "1.2.3.4/32", "1.2.0.0/16", "1.2.3.0/25", "::/64", "::1/128", "fe80::/64",
              "fe80::%eth0/64", "0.0.0.0/0", "::/0"]:
        pool.append(O("ip_network", t, False))
    scoped = lambda s: "%" in s[2][1]
    for a in pool:
        for b in pool:
            for op in ("<", "<=", "==", "~="):
                binop(op, a, b)
            swapped = scoped(a) or scoped(b)
            binop(">", a, b, swapped)
            binop(">=", a, b, swapped)
            keyeq(a, b)
    for a in pool[:6]:
        binop("<", a, I(5))
        binop("==", a, S("1.2.3.4"))
    for a in R.sample(addrs, 40):
        b = R.choice(addrs)
        for op in ("<", "<=", "==", "~="):
            binop(op, a, b)
        binop(">", a, b, scoped(a) or scoped(b))
        binop(">=", a, b, scoped(a) or scoped(b))
        keyeq(a, b)
        keyeq(a, O("ip_address", ev(a).compressed if "%" not in ev(a).compressed else "::"))
    unscoped = [x for x in pool if not scoped(x)]
    for _ in range(30):
        sortkey([R.choice(unscoped) for _ in range(R.randint(2, 8))])
    for a in pool:
        fn("get_mixed_type_key", a)

    # ---- module functions ----
    for n in [0, 1, 2**32 - 1, 2**32, -1, 2**64, 2**128 - 1, 2**128, -(2**70), 3221225985]:
        fn("v4_int_to_packed", I(n))
        fn("v6_int_to_packed", I(n))
    ranges = [("192.0.2.0", "192.0.2.130"), ("0.0.0.0", "255.255.255.255"), ("255.255.255.0", "255.255.255.255"),
              ("1.2.3.4", "1.2.3.4"), ("1.2.3.5", "1.2.3.4"), ("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
              ("::1", "::ffff"), ("2001:db8::", "2001:db8::1:5"), ("1.2.3.4", "::1"),
              ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    for _ in range(25):
        a, b = sorted([R.getrandbits(32), R.getrandbits(32)])
        ranges.append((str(ipaddress.IPv4Address(a)), str(ipaddress.IPv4Address(b))))
    for _ in range(25):
        a = rand_v6_int()
        b = min(a + R.getrandbits(R.choice([8, 40, 100])), 2**128 - 1)
        ranges.append((str(ipaddress.IPv6Address(a)), str(ipaddress.IPv6Address(b))))
    for a, b in ranges:
        fn("summarize_address_range", O("ip_address", a), O("ip_address", b))
    fn("summarize_address_range", O("ip_network", "1.2.3.0/24"), O("ip_address", "1.2.3.4"))
    fn("summarize_address_range", O("ip_interface", "1.2.3.0/24"), O("ip_interface", "1.2.3.9/24"))
    fn("summarize_address_range", O("ip_address", "1.2.3.0"), O("ip_interface", "1.2.3.9/24"))
    for _ in range(60):
        v = R.choice([4, 6])
        items = []
        for _ in range(R.randint(0, 12)):
            r = R.random()
            if v == 4:
                base = 0xC0000200 + R.randrange(64)
                if r < 0.4:
                    items.append(O("ip_address", base))
                elif r < 0.5:
                    items.append(O("ip_interface", str(ipaddress.IPv4Address(base)) + "/32"))
                else:
                    items.append(O("ip_network", "%s/%d" % (ipaddress.IPv4Address(base), R.randint(24, 32)), False))
            else:
                base = (0x20010db8 << 96) + R.randrange(64)
                if r < 0.4:
                    items.append(O("ip_address", str(ipaddress.IPv6Address(base))))
                else:
                    items.append(O("ip_network", "%s/%d" % (ipaddress.IPv6Address(base), R.randint(120, 128)),
                                   False))
        fn("collapse_addresses", L(items))
    fn("collapse_addresses", L([O("ip_address", "1.2.3.4"), O("ip_address", "::1")]))
    fn("collapse_addresses", L([O("ip_network", "1.2.3.0/24"), O("ip_network", "::/64")]))
    fn("collapse_addresses", L([O("ip_address", "1.2.3.4"), O("ip_network", "::1/128")]))
    fn("collapse_addresses", L([O("ip_network", "0.0.0.0/1"), O("ip_network", "128.0.0.0/1")]))
    fn("collapse_addresses", L([O("ip_address", "255.255.255.255"), O("ip_address", "255.255.255.254")]))
    fn("collapse_addresses", L([O("ip_network", "::/1"), O("ip_network", "8000::/1")]))

    print("-- generated by spec/support/ipaddress_cases.py with Python %s" % sys.version.split()[0])
    for line in OUT:
        print(line)
    print("DONE(%d)" % COUNT)


main()
