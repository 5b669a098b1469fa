#!/usr/bin/env python3
"""A UDP echo for the end-to-end tests and the demo.

  udp_echo.py serve ADDRESS PORT              echo every datagram back
  udp_echo.py probe ADDRESS PORT COUNT GAP_S  send COUNT probes GAP_S apart;
                                              print the median RTT in ms
"""
import socket
import statistics
import sys
import time


def serve(address, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, port))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)


def probe(address, port, count, gap_s):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    rtts = []
    for i in range(count):
        sent = time.monotonic()
        s.sendto(i.to_bytes(4, "big"), (address, port))
        try:
            while True:
                data, _ = s.recvfrom(2048)
                if int.from_bytes(data[:4], "big") == i:
                    break
            rtts.append(1000 * (time.monotonic() - sent))
        except socket.timeout:
            pass
        time.sleep(gap_s)
    print(f"{statistics.median(rtts):.3f}" if rtts else "none")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        probe(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
