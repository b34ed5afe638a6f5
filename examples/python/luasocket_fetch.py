# luasocket_fetch.py: the Python twin of luasocket_fetch.lua (a thread per
# URL, urllib.request for socket.http).
import sys, threading, urllib.error, urllib.request

results = {}

def fetch(i, url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            results[i] = "%s %d %d bytes" % (url, r.status, len(r.read()))
    except urllib.error.HTTPError as e:
        results[i] = "%s %d %d bytes" % (url, e.code, len(e.read()))
    except OSError as e:
        results[i] = "%s failed: %s" % (url, e)

threads = [threading.Thread(target=fetch, args=(i, u)) for i, u in enumerate(sys.argv[1:])]
for t in threads:
    t.start()
for t in threads:
    t.join()
for i in range(len(sys.argv) - 1):
    print(results[i])
