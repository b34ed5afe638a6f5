-- lua/urllib/parse.lua against CPython's urllib.parse: a Python generator
-- (below) makes the cases (URLs, relative references, strings to quote and
-- unquote, query strings, urlencode inputs), calls urllib.parse on each and
-- writes every input and every observation (each field, username, password,
-- hostname, port, repr, geturl, the round trip through urlunsplit/urlunparse,
-- each error's class and message) as a Lua chunk. The spec makes the same
-- calls here and compares every observation. Python's keyword arguments are
-- passed as the options table; positional ones positionally.
--
-- Text crosses as bytes: Python's str is encoded as UTF-8 with
-- errors='surrogateescape', the model the module documents for Lua strings.
local h = require "spec.support.helpers"
local parse = require "urllib.parse"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"

local GENERATOR = [==[
import random
import sys
from urllib.parse import (urlparse, urlsplit, urlunparse, urlunsplit, urljoin, urldefrag, quote,
                          quote_plus, quote_from_bytes, unquote, unquote_plus, unquote_to_bytes,
                          urlencode, parse_qs, parse_qsl)

class N(list):
    """A list that may hold None: Lua gets its length as the field n."""

def lua(v):
    if v is None: return 'nil'
    if v is True: return 'true'
    if v is False: return 'false'
    if isinstance(v, int): return str(v)
    if isinstance(v, float): return repr(v)
    if isinstance(v, str): v = v.encode('utf-8', 'surrogateescape')
    if isinstance(v, bytes):
        return '"' + ''.join(chr(b) if 32 <= b < 127 and b not in (34, 92) else '\\%03d' % b
                             for b in v) + '"'
    if isinstance(v, N):
        return '{' + ''.join(lua(x) + ',' for x in v) + 'n=%d}' % len(v)
    if isinstance(v, (list, tuple)):
        return '{' + ''.join(lua(x) + ',' for x in v) + '}'
    if isinstance(v, dict):
        return '{' + ''.join('[%s]=%s,' % (lua(k), lua(x)) for k, x in v.items()) + '}'
    raise TypeError(type(v))

def err(e):
    name = type(e).__name__
    if type(e).__module__ not in ('builtins',):
        name = type(e).__module__ + '.' + name
    return {'err': name, 'msg': str(e)}

VIA = {'quote': quote, 'quote_plus': quote_plus}

def call(fn, args, kw):
    kw = dict(kw)
    if 'quote_via' in kw: kw['quote_via'] = VIA[kw['quote_via']]
    return fn(*args, **kw)

def attr(r, name):
    try: return getattr(r, name)
    except ValueError as e: return err(e)

def observe(f, args, kw):
    fn = globals()[f]
    try:
        r = call(fn, args, kw)
    except (ValueError, LookupError) as e:
        return [err(e)]
    if f in ('urlsplit', 'urlparse'):
        un = urlunsplit if f == 'urlsplit' else urlunparse
        o = list(r) + [repr(r)] + [attr(r, a) for a in ('username', 'password', 'hostname', 'port')]
        return o + [r.geturl(), un(tuple(r)), un(list(r))]
    if f == 'urldefrag':
        return [r.url, r.fragment, repr(r), r.geturl()]
    if f == 'parse_qsl':
        return [len(r)] + [x for kv in r for x in kv]
    if f == 'parse_qs':
        items = sorted(r.items(), key=lambda kv: kv[0].encode('utf-8', 'surrogateescape'))
        return [repr(r)] + [N([k, N(v)]) for k, v in items]
    return [r]

groups = []
def group(title, calls):
    groups.append((title, [(f, list(a), dict(kw), observe(f, a, kw)) for f, a, kw in calls]))

# ---- URLs for urlsplit/urlparse ----
URLS = [
    # ordinary
    'http://www.python.org', 'https://www.python.org/doc/?q=1#frag',
    'http://user:pass@host.example.com:8080/path/to;params?query=1&b=2#frag',
    'ftp://ftp.example.com/pub/file.txt', 'file:///etc/passwd', 'file:/etc/passwd',
    'file://localhost/etc/hosts', 'mailto:user@example.com', 'news:comp.lang.python',
    'tel:+1-816-555-1212', 'urn:oasis:names:specification:docbook:dtd:xml:4.1.2',
    'ldap://[2001:db8::7]/c=GB?objectClass?one', 'telnet://192.0.2.16:80/',
    'sip:alice@atlanta.com;transport=tcp', 'svn+ssh://svn.example.com/repo;rev=1',
    'git+ssh://git@github.com/x/y.git', 'ws://example.com/chat', 'wss://example.com:443/chat?x',
    'imap://mail.example.com/;type=x', 'rtsp://media.example.com:554/s;a?b',
    # IPv6 and bracketed hosts
    'http://[::1]:8080/', 'http://[::1]/', 'http://[2001:db8::1]:80/x', 'http://[::1]',
    'http://[fe80::822a:a8ff:fe49:470c%tESt]:1234/keys', 'http://[::ffff:192.0.2.1]/',
    'http://[v1.fe80::a+en1]/', 'http://[vG.x]/', 'http://[v1.]/', 'http://[V1.x]/', 'http://[v1x]/',
    'http://[1.2.3.4]/', 'http://[::1/', 'http://::1]/', 'http://[zz]/', 'http://[::1]x/',
    'http://u@[::1]:99999/', 'http://[1:2:3:4:5:6:7:8]/', 'http://[1:2:3:4:5:6:7:8:9]/',
    'http://[1::2::3]/', 'http://[::]/', 'http://[:1]/', 'http://[1:]/', 'http://[::1%]/',
    'http://[::1%a%b]/', 'http://[12345::]/', 'http://[::1.2.3.04]/', 'http://[::256.1.1.1]/',
    'http://[::1.2.3.4]/', 'http://[1:2:3:4:5:6:1.2.3.4]/', 'http://[1:2:3:4:5:6:7:1.2.3.4]/',
    'http://[::1]:80:90/', 'http://a[::1]b/', 'http://][/', 'http://[]/', 'http://[FE80::1]/',
    'http://[1::]/', 'http://[::1::]/', 'http://[:::]/', 'http://[1:2:3:4:5:6:7::]/',
    'http://[::2:3:4:5:6:7:8]/', 'http://[1:2:3:4::5:6:7:8]/', 'http://[g::1]/',
    'http://[::1]:8080', 'http://user:pw@[::1]:21/x', 'http://[::1]]/', 'http://[[::1]/',
    # userinfo
    'http://user@host/', 'http://user:@host/', 'http://:pass@host/', 'http://@host/',
    'http://a@b@c/', 'http://user:pa:ss@host:1/', 'http://us%40er:p%3Ass@host/', 'http://@/',
    'http://USER:PW@HOST.COM:8080/',
    # empty parts
    '', 'http:', 'http://', 'http:///', 'http://host', '//host/path', '//', '/', '?', '#', '?#',
    'http://host?', 'http://host#', 'http://host/;', 'http://host/;?#', 'path', 'a/b/c',
    ';params', 'path;params', '/p/a;b/c;d', 'http://h/p/a;b/c;d', 'http://h/;a;b',
    'http://h/a/b;c/d', 'http://h/p;x?q#f', 'http://h;x', 'mailto:a;b', '//h;x/y;z',
    # ports
    'http://host:80', 'http://host:0', 'http://host:65535', 'http://host:65536', 'http://host:-1',
    'http://host:abc', 'http://host:', 'http://host:0080', 'http://host:00000000000080',
    'http://host: 80', 'http://host:\uff18\uff10', 'http://host:1e3', 'http://host:+80',
    'http://host:99999999999999999999', 'http://host:80:90', 'http://[::1]:', 'http://[::1]:abc',
    'http://host:\u0661', 'http://host:\xb2', "http://host:'", 'http://host:"x\'', 'http://host:\\',
    'http://host:8\x7f',
    # schemes
    'HTTP://EXAMPLE.COM/', 'h2c://x', 'a+b-c.d://x/y', 'svn+ssh://h/', '1http://x', '+x://y',
    'x_y://z', 'localhost:8080', 'host:80/path', 'c:\\windows', 'path:with:colons', 'ex ample://x',
    'a:', ':x', 'javascript:alert(1)', 'data:text/plain;base64,SGVsbG8=', 'HtTpS://ExAmPlE.CoM:443/PaTh',
    'Z9+-.:rest', '\xe9x://y', 'sip:x;y', 'tel:1;a', 'HTTP:x', 'http:g', 'http:/g', 'http:?x', 'http:#y',
    # whitespace and control characters
    ' http://host/', '\x00\x1fhttp://host/', 'http://host/ ', 'ht\ttp://ho\nst/pa\rth',
    '\thttp://x', 'http://exa mple.com/', 'http://host/\x7f', 'http://host/%00', ' \t\n ',
    'http:// host/', '\x0bhttp://h/\x0b', 'http://h/\x00?\x00#\x00', '\r\nhttp://h\r\n/',
    '\x01\x02 \x03', 'http://h/\x1f', 'h\ttt\np://x',
    # fragments and queries
    'http://h/p#', 'http://h/p#a#b', 'http://h/p?q#f?g', 'http://h#f', '#frag', 'http://h/p?a=1#',
    'http://h?x=1?y=2', 'http://h:80#x', 'http://h/a?b#c;d', 'http://h/a#b?c',
    # non-ASCII
    'http://example.com/\xe4/\u20ac?q=\xfc#\xdf', 'http://EX\xc4MPLE.com/', 'http://\u0391\u03a3.COM/',
    'http://\u039f\u0394\u039f\u03a3/', 'http://Stra\xdfe.de/', 'http://\u0130stanbul.tr/',
    'http://xn--nxasmq6b.com/', 'http://ex\u2100ample.com/', 'http://ex\uff0fample.com/',
    'http://user\uff20host/', 'http://host\uff1a80/', 'http://\u65e5\u672c\u8a9e.jp:8080/\u30d1\u30b9',
    'http://ex\xe9.com/', 'http://\xc0\xc9\xce.com', 'http://a\u0130b/', 'http://\U0001F600.com/',
    'http://\u03a3/', 'http://x\u03a3/', 'http://\u03a3x/', 'http://\u0391\u03a3\u0391/',
    'http://\u0391\u03a3:80/', 'http://\u0391\u03a3-b/', 'http://\u0391\u03a3\u0301/',
    'http://\u0410\u0411\u0412.\u0420\u0424/', 'http://\u1E9E\u0178\u2C6F.de/', 'http://\u2126\u212a\u212b/',
    'http://\u24b6\u24b7/', 'http://\uff21\uff22.jp/', 'http://\U00010400x/', 'http://\u1f88\u1fbc/',
    'http://u:p@\xc9X\xc0MPLE:8/', 'http://[FE80::A%Eth0\xc9]/', 'http://ex\u2101/', 'http://ex\u2a74/',
    'http://a\ufe55b/', 'http://a@b\u2100c/', 'http://\u2047/', 'http://x\u2100/p#\u2100', '/\u2100',
    'http://x/\u2100', 'http://ex\u2102ample.com/', 'http://\u0085\xa0/', 'http://h\xad/',
    # stray bytes (invalid UTF-8, surrogateescape in Python)
    'http://h/\udcff', 'http://\udcc3X/', 'http://h:\udcff/', 'http://[\udcff]/', '\udcff:x',
    # percent and plus
    'http://h/%7Euser/%zz', 'http://h/a%2Fb?x=%26', 'http://h/a+b?c+d=e+f', 'http://h%41/',
    # dot segments and others
    'http://h/../a/./b', 'http://h\\x', 'http://h:80/p?q=1#f', '//h:8/p', '//u:p@h/p',
    '../a/b?c', './a;b', 'g;x=1/./y', 'http://a/b/c/d;p?q', 'http://h/a\\b', 'http://h/a|b',
]

def url_calls(u):
    return [
        ('urlsplit', [u], {}), ('urlparse', [u], {}),
        ('urlsplit', [u, 'https'], {}), ('urlparse', [u], {'scheme': ' Ht\ttps\n '}),
        ('urlsplit', [u], {'allow_fragments': False}), ('urlparse', [u, '', False], {}),
        ('urldefrag', [u], {}),
    ]

for u in URLS:
    group('urlsplit/urlparse/urldefrag %r' % u, url_calls(u))

# random URL-like strings over the characters that matter
rnd = random.Random(20240611)
ALPHABET = (list(':/?#[]@;=&%+ .-aZ09\t\xe9\u20ac') +
            ['//', '::', 'http:', 'HTTP://', '[::1]', ':80', '%41', '%e2%82%ac'])
fuzz = []
for _ in range(150):
    fuzz.append(''.join(rnd.choice(ALPHABET) for _ in range(rnd.randint(1, 14))))
group('fuzzed URLs (%d)' % len(fuzz), [c for u in fuzz for c in url_calls(u)])

# ---- urljoin: RFC 3986 section 5.4 and more bases ----
RFC_NORMAL = ['g:h', 'g', './g', 'g/', '/g', '//g', '?y', 'g?y', '#s', 'g#s', 'g?y#s', ';x', 'g;x',
              'g;x?y#s', '', '.', './', '..', '../', '../g', '../..', '../../', '../../g']
RFC_ABNORMAL = ['../../../g', '../../../../g', '/./g', '/../g', 'g.', '.g', 'g..', '..g', './../g',
                './g/.', 'g/./h', 'g/../h', 'g;x=1/./y', 'g;x=1/../y', 'g?y/./x', 'g?y/../x',
                'g#s/./x', 'g#s/../x', 'http:g']
MORE_REFS = ['http://other/x', 'HTTP://A/b', '//h2', 'https:g', 'ftp:x', '/', '//', '..//g', 'a/./b/../c',
             '#', '?', '?#', 'g?', 'g#', '\u20ac/\xe9', ' g', '\tg', '../../../..', './', '.././', 'g/..',
             'g/.', '//[::1]/x', 'mailto:a@b', '/a//b', 'a//b', 'g;p/..']
group('urljoin RFC 3986 5.4.1 normal examples', [('urljoin', ['http://a/b/c/d;p?q', r], {}) for r in RFC_NORMAL])
group('urljoin RFC 3986 5.4.2 abnormal examples', [('urljoin', ['http://a/b/c/d;p?q', r], {}) for r in RFC_ABNORMAL])
BASES = ['http://a/b/c/d;p?q', 'http://a/b/c/d;p?q#f', 'http://a/b/', 'http://a', 'https://a/b/c',
         'mailto:x@y', 'ftp://x/y/z', '', 'svn+ssh://h/a/b', 'foo://a/b', 'http:///x', '/rel/path',
         'rel/path', 'http://[::1]/a/b', 'http://a/b/c/', 'http://a//b//c', 'file:///tmp/x', 'http:a/b',
         'tel:+1;x', 'ws://h/a?x#y']
for b in BASES:
    group('urljoin base %r' % b,
          [('urljoin', [b, r], {}) for r in RFC_NORMAL + RFC_ABNORMAL + MORE_REFS] +
          [('urljoin', [b, r, False], {}) for r in ('g#s', '#s', 'g?y#s', '..#x')] +
          [('urljoin', [b, r], {'allow_fragments': False}) for r in ('g#s/../x', '#')])
group('urljoin fuzzed', [('urljoin', [rnd.choice(fuzz + BASES), rnd.choice(fuzz + RFC_NORMAL)], {})
                         for _ in range(200)])

# ---- urlunsplit / urlunparse of lists ----
group('urlunsplit/urlunparse of lists', [
    ('urlunsplit', [['http', 'h', '/p', 'q', 'f']], {}), ('urlunsplit', [['http', '', 'p', '', '']], {}),
    ('urlunsplit', [['', '', '//x', '', '']], {}), ('urlunsplit', [['http', '', '//x', '', '']], {}),
    ('urlunsplit', [['mailto', '', 'a@b', '', '']], {}), ('urlunsplit', [['', 'h', 'p', '', '']], {}),
    ('urlunsplit', [['file', '', '/etc', '', '']], {}), ('urlunsplit', [['foo', '', 'x', 'q', 'f']], {}),
    ('urlunparse', [['http', 'h', '/p', 'a', 'q', 'f']], {}), ('urlunparse', [['', '', '', 'a', '', '']], {}),
    ('urlunparse', [['svn+ssh', '', 'p', '', '', '']], {}),
    ('urlunparse', [['http', 'example.com', '/', '', '', '']], {}),
    ('urlunparse', [['ssh', 'example.com', '/', '', '', '']], {}),
])

# ---- quoting ----
QSTR = ['', 'abc', 'a b', 'a/b c', '\xe9', '\u20ac', '\U0001F600', '~_.-', "!*'();:@&=+$,/?#[]", '%', '\x00\x01\n',
        'abc def?x=1&y=2', ' ', '+', '\xff', '\u0100', 'a\u20acb\xe9c', '\x7f\x80', 'caf\xe9 \u20ac+/',
        ''.join(chr(i) for i in range(128))]
SAFES = [None, '', '/', ':/?', '\xe9', '~', '%', ' ', '+', 'abc', '\U0001F600/', '[]']
calls = []
for s in QSTR:
    for safe in SAFES:
        a = [s] if safe is None else [s, safe]
        calls += [('quote', a, {}), ('quote_plus', a, {})]
        b = s.encode('utf-8')
        calls.append(('quote_from_bytes', [b] if safe is None else [b, safe], {}))
group('quote/quote_plus/quote_from_bytes', calls)
calls = []
for s in QSTR + ['\udcff', 'a\udcc3b', '\u20ac\u20ac', 'a\udcff\u20ac\u20ac', '\u20ac\udcff\u20ac',
                 '\udcff\udcfe', '\xe9\u20ac\U0001F600', 'x\udcff\xe9']:
    for enc in [None, 'utf-8', 'latin-1', 'ascii', 'LATIN1', 'iso-8859-1', 'US-ASCII', 'UTF8', 'utf_8', 'l1',
                'Latin_1', '646', 'bogus']:
        for errs in [None, 'strict', 'replace', 'ignore', 'backslashreplace', 'xmlcharrefreplace', 'bogus',
                     'surrogateescape', 'surrogatepass']:
            if enc in (None, 'utf-8', 'UTF8', 'utf_8') and any('\udc80' <= ch <= '\udcff' for ch in s) \
                    and errs != 'surrogateescape':
                continue  # a deliberate difference, checked below
            kw = {}
            if enc is not None: kw['encoding'] = enc
            if errs is not None: kw['errors'] = errs
            calls += [('quote', [s], kw), ('quote_plus', [s, '/', enc, errs], {})]
group('quote with encodings and error handlers', calls)

USTR = ['', 'abc', '%41%42', '%e2%82%ac', '%E2%82', '%ff', '%zz', '%', '%4', '%%41', 'a+b', '\xe9%C3%A9',
        '%C3\xe9', '%F0%9F%98%80', '%ED%A0%80', '%C0%AF', '%F4%90%80%80', '%E0%80%80', '%41%', 'x%2',
        '\udcff%41', '%e2%82%ac+%20%2B', '%F0%9F%98', '%F0%9F%98x', '%e9t%e9', '%80%BF%C2', '%7f%00',
        '%e2%82%ac%e2%82', '\u20ac%e2%82%ac\u20ac%ff', '%F1%80%80%80%F4%8F%BF%BF%F5', '%C2%C2%A9',
        '%E1%80%E1%80%80', '%EF%BF%BD%EF%BF%BE', '%2', '%g0%0g', '+%2b+', 'a%20b%2Fc']
for _ in range(60):
    raw = bytes(rnd.choice([0x41, 0x25, 0x2B, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xFF, 0xED, 0xA0,
                            0x20, 0x7A]) for _ in range(rnd.randint(1, 8)))
    USTR.append(''.join('%%%02X' % b if rnd.random() < 0.8 else chr(b) if b < 128 else '%%%02x' % b for b in raw))
calls = []
for s in USTR:
    calls += [('unquote', [s], {}), ('unquote_plus', [s], {}), ('unquote_to_bytes', [s], {})]
    for enc in ['utf-8', 'latin-1', 'ascii', 'bogus', 'l1', 'u8', 'US-ASCII', '646']:
        for errs in ['strict', 'replace', 'ignore', 'backslashreplace', 'surrogateescape', 'bogus']:
            calls += [('unquote', [s, enc, errs], {}), ('unquote_plus', [s], {'encoding': enc, 'errors': errs})]
# (unquote_to_bytes of a str with a stray byte is a deliberate difference, checked below)
group('unquote/unquote_plus/unquote_to_bytes',
      [c for c in calls if not (c[0] == 'unquote_to_bytes' and '\udcff' in c[1][0])])
group('quote/unquote round trips of random text', [
    (f, [''.join(rnd.choice('ab /+%?&=\xe9\u20ac\U0001F600\x00~') for _ in range(rnd.randint(0, 12)))], {})
    for _ in range(60) for f in ('quote', 'quote_plus', 'unquote', 'unquote_plus')])

# ---- query strings ----
QS = ['', 'a=1', 'a=1&b=2&a=3', 'a', 'a=', '=b', '&', '&&a=1&&', 'a=1;b=2', 'a+b=c+d', 'a%20b=c%26d',
      'a=%E2%82%AC', 'a=%ff', 'a=b=c', 'x=%', '=', 'a&b=1', '\xe9=\xfc', 'a=1&a=2&a=', 'a=%e9;b=%C3%A9',
      'k=v&&k2', 'q=%2B+%2b', 'a=1&;b=2', ';;', 'a=\x85', 'x=%F0%9F%98', 'a=1\nb=2', ' a = b ']
OPTS = [{}, {'keep_blank_values': True}, {'strict_parsing': True}, {'keep_blank_values': True, 'strict_parsing': True},
        {'separator': ';'}, {'separator': '&;'}, {'separator': ''}, {'max_num_fields': 0}, {'max_num_fields': 1},
        {'max_num_fields': 2}, {'max_num_fields': 10}, {'encoding': 'latin-1'}, {'errors': 'strict'},
        {'encoding': 'ascii', 'errors': 'backslashreplace', 'keep_blank_values': True}]
calls = []
for q in QS:
    for o in OPTS:
        calls += [('parse_qsl', [q], o), ('parse_qs', [q], o)]
    calls += [('parse_qsl', [q, True, False], {}), ('parse_qs', [q, 1, 0, 'utf-8', 'replace', None, ';'], {})]
group('parse_qs/parse_qsl', calls)

# ---- urlencode (a dict in the sorted key order the Lua map form uses) ----
def d(*kv): return dict(kv)
ENC = [
    [('a', '1'), ('b', '2')], [('a b', 'c&d'), ('\xe9', '\u20ac')], [('a', 1), ('b', 1.5), ('c', True), ('d', False)],
    [('k', ['x', 'y'])], [('a', [])], [('a', ['x', 1, 2.5])], [], d(), d(('a', '1'), ('b', '2')),
    d((2, 'x'), (2.5, 'y'), ('a', 'z')), [('a', '/b c~')], [('\U0001F600', '+ /')],
    [('z', '1'), ('a', '2'), ('z', '3')],
    d(('k', ['1', '2']), ('l', 'x')), [('a', 10**15), ('b', 1e16), ('c', -0.0), ('d', 0.1)], [('e', '\xe9')],
    [(1, 2)], [('a', '')], [('', '')],
]
calls = []
for q in ENC:
    calls.append(('urlencode', [q], {}))
    calls.append(('urlencode', [q, True], {}))
    calls.append(('urlencode', [q], {'doseq': True, 'safe': '/'}))
    calls.append(('urlencode', [q, False, '/~'], {}))
    calls.append(('urlencode', [q], {'quote_via': 'quote'}))
    calls.append(('urlencode', [q], {'doseq': 1, 'quote_via': 'quote', 'safe': '+'}))
    calls.append(('urlencode', [q], {'encoding': 'latin-1'}))
    calls.append(('urlencode', [q, 0, '', 'ascii', 'xmlcharrefreplace'], {}))
    calls.append(('urlencode', [q], {'encoding': 'ascii'}))
group('urlencode', calls)

out = ['return {']
for title, calls in groups:
    out.append('{title=%s, calls={' % lua(title))
    for f, a, kw, obs in calls:
        out.append('{f=%s, args=%s, kw=%s, obs=%s},' % (lua(f), lua(N(a)), lua(kw), lua(N(obs))))
    out.append('}},')
out.append('}')
sys.stdout.buffer.write('\n'.join(out).encode())
]==]

-- ---- the same observations on the Lua side ----

local function errobs(e)
  local mt = getmetatable(e)
  if type(e) == "table" and type(mt) == "table" and mt.__name then return {err = mt.__name, msg = tostring(e)} end
  return {err = "lua error", msg = tostring(e)}
end

local function pack(...) return table.pack(...) end

local VIA = {quote = parse.quote, quote_plus = parse.quote_plus}

local function call(c)
  local args = {table.unpack(c.args, 1, c.args.n)}
  local n = c.args.n
  if next(c.kw) ~= nil then
    local kw = {}
    for k, v in pairs(c.kw) do kw[k] = v end
    if kw.quote_via then kw.quote_via = VIA[kw.quote_via] end
    n = n + 1
    args[n] = kw
  end
  return parse[c.f](table.unpack(args, 1, n))
end

local function attr(r, name)
  local ok, v = pcall(function() return r[name] end)
  if ok then return v end
  return errobs(v)
end

local function observe(c)
  local ok, r = pcall(call, c)
  if not ok then return pack(errobs(r)) end
  local f = c.f
  if f == "urlsplit" or f == "urlparse" then
    local un = f == "urlsplit" and parse.urlunsplit or parse.urlunparse
    local o, n = {}, 0
    local function add(v) n = n + 1; o[n] = v end
    for i = 1, #r do add(r[i]) end
    add(tostring(r))
    for _, a in ipairs {"username", "password", "hostname", "port"} do add(attr(r, a)) end
    local list = {}
    for i = 1, #r do list[i] = r[i] end
    add(r:geturl()); add(un(r)); add(un(list))
    o.n = n
    return o
  end
  if f == "urldefrag" then return pack(r.url, r.fragment, tostring(r), r:geturl()) end
  if f == "parse_qsl" then
    local o = {#r}
    for _, kv in ipairs(r) do o[#o + 1] = kv[1]; o[#o + 1] = kv[2] end
    o.n = #o
    return o
  end
  if f == "parse_qs" then
    local keys = {}
    for k in pairs(r) do keys[#keys + 1] = k end
    table.sort(keys)
    local o = {tostring(r)}
    for _, k in ipairs(keys) do
      local vals = {}
      for i, v in ipairs(r[k]) do vals[i] = v end
      vals.n = #vals
      o[#o + 1] = {k, vals, n = 2}
    end
    o.n = #o
    return o
  end
  return pack(r)
end

-- Deep equality, integers and floats apart; false and the first key that
-- differs.
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b and math.type(a) == math.type(b) end
  for k, v in pairs(a) do if not same(v, b[k]) then return false, k end end
  for k in pairs(b) do if a[k] == nil then return false, k end end
  return true
end

local function show(v)
  if type(v) == "table" then
    local parts = {}
    for i = 1, v.n or #v do parts[#parts + 1] = show(v[i]) end
    for k, x in pairs(v) do
      if type(k) == "string" and k ~= "n" then parts[#parts + 1] = k .. "=" .. show(x) end
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local cases = assert(load(h.python(GENERATOR), "=python cases"))()
local compared = 0

describe("urllib.parse against python3's urllib.parse", function()
  for _, g in ipairs(cases) do
    it(g.title, function()
      local bad = {}
      for _, c in ipairs(g.calls) do
        local got = observe(c)
        local ok, where = same(got, c.obs)
        if not ok then
          bad[#bad + 1] = string.format("%s(%s, %s) at [%s]\n   python: %s\n   lua:    %s",
            c.f, show(c.args), show(c.kw), tostring(where), show(c.obs), show(got))
        end
        compared = compared + 1
      end
      assert(#bad == 0, #bad .. " of " .. #g.calls .. " differ:\n" .. table.concat(bad, "\n", 1, math.min(#bad, 20)))
    end)
  end

  it("compared at least 10,000 calls", function()
    print(string.format("# urllib.parse: %d calls compared with python3 in %d groups", compared, #cases))
    assert.is_true(compared >= 10000, "only " .. compared .. " calls compared")
  end)
end)

-- ---- hostname's lower case, code point by code point ----

describe("urllib.parse hostname lower-cases as python3's str.lower", function()
  -- Python's lower case of every code point that has one (one or more code
  -- points); every other code point must stay as it is.
  local map = load(h.python([==[
import sys
out = ['return {']
for cp in range(0x40000):
    if 0xD800 <= cp < 0xE000: continue
    l = chr(cp).lower()
    if l != chr(cp):
        out.append('[%d]="%s",' % (cp, ''.join('\\u{%X}' % ord(c) for c in l)))
out.append('}')
sys.stdout.write('\n'.join(out))
]==]))()

  it("for every code point below U+40000 but the ones a netloc cannot hold", function()
    local skip = {}
    for c in ("/?#@:[]%\t\r\n"):gmatch(".") do skip[c:byte()] = true end
    -- characters whose NFKC form holds a delimiter (urlsplit refuses them),
    -- and capital sigma, whose lower case depends on its neighbours
    for _, cp in ipairs {0x2047, 0x2048, 0x2049, 0x2100, 0x2101, 0x2105, 0x2106, 0x2A74, 0xFE13, 0xFE16,
                         0xFE55, 0xFE56, 0xFE5F, 0xFE6B, 0xFF03, 0xFF0F, 0xFF1A, 0xFF1F, 0xFF20, 0x3A3} do
      skip[cp] = true
    end
    local checked, bad = 0, {}
    local cp = 0
    while cp < 0x40000 do
      local input, want = {}, {}
      -- chunks of 512 code points, started by a letter so that leading
      -- spaces and controls are not stripped
      input[1], want[1] = "x", "x"
      local stop = math.min(cp + 512, 0x40000)
      for c = cp, stop - 1 do
        if not skip[c] and not (c >= 0xD800 and c < 0xE000) then
          input[#input + 1] = utf8.char(c)
          want[#want + 1] = map[c] or utf8.char(c)
          checked = checked + 1
        end
      end
      cp = stop
      local got = parse.urlsplit("http://" .. table.concat(input) .. "/").hostname
      if got ~= table.concat(want) then bad[#bad + 1] = string.format("U+%04X..U+%04X", stop - 512, stop - 1) end
    end
    assert.are.same({}, bad)
    assert.is_true(checked > 250000)
  end)

  it("capital sigma in the contexts the module documents, as python3 lowers it", function()
    local ctxs = {}
    for _, x in ipairs {"A", "a", "1", "-", ".", "'", "\u{301}", "\u{E9}", "\u{391}", "\u{3B1}", "\u{410}",
                        "\u{B7}", "\u{2019}", "\u{AA}", "\u{130}", "\u{1C5}", " ", "_", "\u{5D0}", "\u{4E00}",
                        "\u{10400}", "\u{FF21}"} do
      for _, tmpl in ipairs {"A%sΣ", "%sΣ", "AΣ%s", "Σ%sA", "AΣ%sb", "A%sΣ%s", "Σ", "ΑΣ", "ΟΔΟΣ.gr"} do
        ctxs[#ctxs + 1] = tmpl:format(x, x)
      end
    end
    local lines = {}
    for i, c in ipairs(ctxs) do lines[i] = c end
    local path = h.write_temp(table.concat(lines, "\n"), ".txt")
    local out = h.python(string.format([[
from urllib.parse import urlsplit
for line in open(%q, encoding='utf-8').read().split('\n'):
    print(urlsplit('http://' + line + '/').hostname)
]], path))
    os.remove(path)
    local i = 0
    for want in out:gmatch("([^\n]*)\n") do
      i = i + 1
      assert.are.equal(want, parse.urlsplit("http://" .. ctxs[i] .. "/").hostname, "context " .. ctxs[i])
    end
    assert.are.equal(#ctxs, i)
  end)
end)

-- ---- the Lua side of the API ----

-- python(expr) -> what python3 prints for print(expr), urllib.parse imported.
local function python(code)
  return (h.python("from urllib.parse import *\nfrom urllib.parse import uses_relative, uses_netloc, "
    .. "uses_params, non_hierarchical, uses_query, uses_fragment, scheme_chars\n" .. code):gsub("\n$", ""))
end

-- The error fn(...) raises, called from a line of this file.
local function raises(fn, ...)
  local args = table.pack(...)
  local ok, err = pcall(function()
    local r = fn(table.unpack(args, 1, args.n))
    return r
  end)
  assert(not ok, "no error raised")
  return err
end

describe("urllib.parse result objects", function()
  local url = "HTTP://User:Pw@Example.COM:8080/a/b;p?q=1#frag"

  it("have fields by name and by index, a length, unpack and ipairs", function()
    local r = parse.urlparse(url)
    local names = {"scheme", "netloc", "path", "params", "query", "fragment"}
    for i, name in ipairs(names) do assert.are.equal(r[name], r[i]) end
    assert.are.equal(6, #r)
    assert.are.same({"http", "User:Pw@Example.COM:8080", "/a/b", "p", "q=1", "frag"}, {table.unpack(r)})
    local seen = {}
    for i, v in ipairs(r) do seen[i] = v end
    assert.are.same({table.unpack(r)}, seen)
    assert.are.equal(python(("print(urlparse(%q))"):format(url)), tostring(r))
    assert.are.equal(5, #parse.urlsplit(url))
    assert.are.equal(2, #parse.urldefrag(url))
  end)

  it("compare equal field by field, and only to the same kind of result", function()
    assert.are.equal(parse.urlparse(url), parse.urlparse(url))
    assert.are_not.equal(parse.urlparse(url), parse.urlparse(url .. "x"))
    assert.are_not.equal(parse.urlsplit(url), {table.unpack(parse.urlsplit(url))})
    assert.are.equal(parse.urlsplit("http://h/"), parse.SplitResult("http", "h", "/", "", ""))
  end)

  it("are read-only", function()
    local r = parse.urlsplit(url)
    local err = raises(function() r.scheme = "ftp" end)
    assert.matches("can't set attribute 'scheme'", err, 1, true)
    assert.are.equal("http", r.scheme)
  end)

  it("_replace gives a changed copy, as namedtuple's", function()
    local r = parse.urlparse(url)
    local r2 = r:_replace {path = "/x y", fragment = ""}
    assert.are.equal(python(("print(urlparse(%q)._replace(path='/x y', fragment='').geturl())"):format(url)),
      r2:geturl())
    assert.are.equal("/a/b", r.path)
    assert.matches("unexpected field name 'nope'", raises(r._replace, r, {nope = "x"}), 1, true)
    assert.matches("field 'path': string expected, got number", raises(r._replace, r, {path = 1}), 1, true)
  end)

  it("can be made directly, with Python's repr", function()
    local r = parse.ParseResult("http", "h:1", "/p", "a", "q", "f")
    assert.are.equal(python("print(ParseResult('http', 'h:1', '/p', 'a', 'q', 'f'))"), tostring(r))
    assert.are.equal(1, r.port)
    assert.are.equal(python("print(DefragResult('u', 'f'))"), tostring(parse.DefragResult("u", "f")))
    assert.matches("bad argument #3 to 'SplitResult' (string expected, got number)",
      raises(parse.SplitResult, "a", "b", 3, "d", "e"), 1, true)
  end)

  it("raise ValueError from port as Python does", function()
    local err = raises(function() return parse.urlsplit("http://h:99999/").port end)
    assert.is_true(errors.ValueError:matches(err))
    assert.are.equal("ValueError: Port out of range 0-65535", errors.describe(err))
    err = raises(function() return parse.urlsplit("http://h:x1/").port end)
    assert.are.equal("ValueError: Port could not be cast to integer value as 'x1'", errors.describe(err))
  end)
end)

describe("urllib.parse arguments", function()
  it("take an options table in place of the optional arguments", function()
    assert.are.equal(parse.quote("a b/c", ""), parse.quote("a b/c", {safe = ""}))
    assert.are.equal(parse.quote("\u{E9}/", "", "latin-1"), parse.quote("\u{E9}/", "", {encoding = "latin-1"}))
    assert.are.equal(parse.urlsplit("a#b", "", false), parse.urlsplit("a#b", {allow_fragments = false}))
    assert.are.equal(parse.urljoin("http://a/b", "c#d", false),
      parse.urljoin("http://a/b", "c#d", {allow_fragments = false}))
    assert.are.equal(parse.urlencode({{"a", {1, 2}}}, true), parse.urlencode({{"a", {1, 2}}}, {doseq = true}))
    assert.are.same(parse.parse_qsl("a=&b", true), parse.parse_qsl("a=&b", {keep_blank_values = true}))
    assert.are.equal(parse.quote_from_bytes("a/b", ""), parse.quote_from_bytes("a/b", {safe = ""}))
    assert.are.equal(parse.unquote("%e9", "latin-1", "strict"),
      parse.unquote("%e9", {encoding = "latin-1", errors = "strict"}))
  end)

  it("refuse unknown options, options given twice and arguments after the table", function()
    assert.matches("bad argument #2 to 'quote' (unexpected option 'saef')",
      raises(parse.quote, "x", {saef = ""}), 1, true)
    assert.matches("bad argument #3 to 'quote' (option 'safe' also given as argument #2)",
      raises(parse.quote, "x", "/", {safe = ""}), 1, true)
    assert.matches("bad argument #3 to 'urlsplit' (no argument may follow the options table)",
      raises(parse.urlsplit, "x", {}, true), 1, true)
    assert.matches("bad argument #2 to 'quote' (option 'safe': string expected, got number)",
      raises(parse.quote, "x", {safe = 1}), 1, true)
  end)

  it("raise Lua argument errors at the caller's line for wrong types", function()
    local calls = {
      {parse.urlparse, {}, "bad argument #1 to 'urlparse' (string expected, got no value)"},
      {parse.urlsplit, {"x", 5}, "bad argument #2 to 'urlsplit' (string expected, got number)"},
      {parse.urlsplit, {"x", "", "yes"}, "bad argument #3 to 'urlsplit' (boolean expected, got string)"},
      {parse.urljoin, {"a"}, "bad argument #2 to 'urljoin' (string expected, got no value)"},
      {parse.quote, {5}, "bad argument #1 to 'quote' (string expected, got number)"},
      {parse.unquote, {"x", 1}, "bad argument #2 to 'unquote' (string expected, got number)"},
      {parse.urlencode, {"a=1"}, "bad argument #1 to 'urlencode' (table expected, got string)"},
      {parse.urlencode, {{{"a"}}}, "bad argument #1 to 'urlencode' (item 1 is not a {key, value} pair)"},
      {parse.urlencode, {{"a"}}, "bad argument #1 to 'urlencode' (item 1 is a string, not a {key, value} pair)"},
      {parse.urlencode, {{{"a", "b"}, x = "y"}},
       "bad argument #1 to 'urlencode' (a list of pairs cannot also have the key 'x')"},
      {parse.urlencode, {{a = 1}, false, "", nil, nil, 5},
       "bad argument #6 to 'urlencode' (function expected, got number)"},
      {parse.urlunparse, {{"a", 1}}, "bad argument #1 to 'urlunparse' (component 2: string expected, got number)"},
      {parse.urlunsplit, {{"a", "b", "c", "d", "e", "f"}},
       "bad argument #1 to 'urlunsplit' (too many values to unpack (expected 5))"},
      {parse.parse_qs, {"a=1", nil, nil, nil, nil, "3"},
       "bad argument #6 to 'parse_qs' (number expected, got string)"},
      {parse.quote, {"\u{20AC}", "", "latin-1", "namereplace"},
       "bad argument #4 to 'quote' (error handler 'namereplace' is not supported)"},
      {parse.unquote, {"%ff", {errors = "surrogatepass"}},
       "bad argument #2 to 'unquote' (option 'errors': error handler 'surrogatepass' is not supported)"},
    }
    for _, c in ipairs(calls) do
      local err = raises(c[1], table.unpack(c[2], 1, 6))
      assert.are.equal("string", type(err))
      assert.matches(c[3], err, 1, true)
      assert.matches("urllib_parse_spec.lua:%d+:", err)
    end
  end)
end)

describe("urllib.parse deliberate differences from Python", function()
  it("quote encodes a stray byte as itself, as quote_from_bytes does", function()
    assert.are.equal(python("print(quote_from_bytes(b'a\\xff\\xc3 '))"), parse.quote("a\xff\xc3 "))
    assert.are.equal(python("print(quote_plus(b'a\\xff\\xc3 '))"), parse.quote_plus("a\xff\xc3 "))
  end)

  it("unquote_to_bytes keeps a stray byte as it is", function()
    assert.are.equal("\xffA\xe9", parse.unquote_to_bytes("\xff%41\xe9"))
    assert.are.equal(python("print(unquote_to_bytes(b'\\xff%41\\xe9') == b'\\xffA\\xe9')"), "True")
  end)

  it("knows only the UTF-8, Latin-1 and ASCII codecs", function()
    local err = raises(parse.quote, "\u{20AC}", "", "cp1252")
    assert.is_true(errors.LookupError:matches(err))
    assert.are.equal("unknown encoding: cp1252", tostring(err))
    assert.are.equal(python("print(quote('\\u20ac', '', 'cp1252'))"), "%80")
  end)

  it("encodes a map in sorted key order: numbers, strings, booleans", function()
    local q = {b = "1", a = "2", [2] = "x", [0.5] = "h", [true] = "t"}
    assert.are.equal(python("print(urlencode({0.5: 'h', 2: 'x', 'a': '2', 'b': '1', True: 't'}))"),
      parse.urlencode(q))
    -- a table with [1] is a list of pairs
    assert.are.equal(python("print(urlencode([('k', 'v')]))"), parse.urlencode({{"k", "v"}}))
  end)

  it("counts nil components as empty strings in urlunparse and urlunsplit", function()
    assert.are.equal(python("print(urlunparse(('http', '', '/p', '', '', '')))"),
      parse.urlunparse({"http", nil, "/p", nil, nil, nil}))
    assert.are.equal(python("print(urlunsplit(('', '', 'p', 'q', '')))"), parse.urlunsplit({nil, nil, "p", "q"}))
  end)
end)

describe("urllib.parse module data", function()
  it("has Python's scheme lists, which code may extend", function()
    for _, name in ipairs {"uses_relative", "uses_netloc", "uses_params", "non_hierarchical", "uses_query",
                           "uses_fragment"} do
      assert.are.equal(python("print(" .. name .. ")"), tostring(parse[name]))
    end
    assert.are.equal(python("print(scheme_chars)"), parse.scheme_chars)
    table.insert(parse.uses_netloc, "myscheme")
    local got = parse.urlunsplit({"myscheme", "", "x", "", ""})
    table.remove(parse.uses_netloc)
    assert.are.equal(python("uses_netloc.append('myscheme')\nprint(urlunsplit(('myscheme', '', 'x', '', '')))"), got)
    assert.are.equal("myscheme:x", parse.urlunsplit({"myscheme", "", "x", "", ""}))
  end)

  it("prints parse_qsl and parse_qs results as Python does", function()
    local qs = "b=2&a=1&b=3&c=%27q%22"
    assert.are.equal(python(("print(parse_qsl(%q))"):format(qs)), tostring(parse.parse_qsl(qs)))
    assert.are.equal(python(("print(parse_qs(%q))"):format(qs)), tostring(parse.parse_qs(qs)))
    assert.are.equal(repr.list_mt, getmetatable(parse.parse_qs(qs).b))
  end)

  it("raises unicode errors that are ValueErrors, as Python's", function()
    local err = raises(parse.unquote, "%ff", "utf-8", "strict")
    assert.is_true(errors.UnicodeDecodeError:matches(err))
    assert.is_true(errors.ValueError:matches(err))
    assert.are.equal(python("print(issubclass(UnicodeDecodeError, ValueError), issubclass(LookupError, ValueError))"),
      "True False")
    assert.is_false(errors.ValueError:matches(raises(parse.unquote, "%ff", "bogus")))
  end)
end)
