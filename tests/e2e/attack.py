#!/usr/bin/env python3
"""Hostile clients (issue 12) against one server, for tests/e2e/serve_hostile.sh and tools/soak.sh.

Usage: attack.py URL FIRST_LINE SECONDS
For SECONDS: 50 slow-header clients from 127.0.0.2 (each sends FIRST_LINE, then one header line every
2 s, reconnecting when closed) and one header flood from 127.0.0.3 (FIRST_LINE, then headers without
end, reconnecting when closed). Needs the loopback addresses 127.0.0.2-3 (Linux has all of 127/8).
"""
import socket, sys, threading, time
host_port = sys.argv[1].split("//")[1].split("/")[0]
host, port = host_port.rsplit(":", 1)
first = sys.argv[2].encode()
seconds = float(sys.argv[3])
end = time.time() + seconds
opened = {"slow": 0, "flood": 0}  # connections made, printed at the end
def connect(src):
    s = socket.socket()
    s.bind((src, 0))
    s.connect((host, int(port)))
    return s
def slow():
    socks = []
    while time.time() < end:
        while len(socks) < 50:
            try:
                s = connect("127.0.0.2"); s.sendall(first); socks.append(s); opened["slow"] += 1
            except OSError:
                time.sleep(0.05); break
        for s in list(socks):
            try:
                s.send(b"X-Slow: a\r\n")
            except OSError:
                socks.remove(s); s.close()
        time.sleep(2)
def flood():
    chunk = b"".join(b"X-Flood-%d: 0123456789abcdef\r\n" % i for i in range(256))
    while time.time() < end:
        try:
            s = connect("127.0.0.3"); s.sendall(first); opened["flood"] += 1
            while time.time() < end:
                s.sendall(chunk)
        except OSError:
            pass
threads = [threading.Thread(target=slow), threading.Thread(target=flood)]
for t in threads: t.start()
for t in threads: t.join()
print(f"attack: {opened['slow']} slow-header connections, {opened['flood']} header-flood connections in {seconds:g} s", flush=True)
