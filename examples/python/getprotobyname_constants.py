# Python 3 reference for examples/getprotobyname_constants.lua (used only by spec/examples_spec.lua).
# Source: 000_0a258178844726fa.txt, section "getprotobyname()".
import socket
import sys


# 获取匹配开头字符串的所有属性值
def getConstants(prefix):
    return {
        getattr(socket, n): n
        for n in dir(socket)
        if n.startswith(prefix)
    }


ipproto_str = getConstants("IPPROTO_")
for agree in sys.argv[1:] or ['tcp', 'udp']:
    num = socket.getprotobyname(agree)
    name = ipproto_str[num]
    print(name, num)
