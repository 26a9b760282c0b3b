#!/usr/bin/env python3
"""Build the seed corpora for the fuzz targets.

Usage: fuzz/seed.py [CAPTURE.pcap ...]

Without arguments, reads every classic pcap file in testdata/captures/ (if any).
Writes into fuzz/corpus/<target>/, one file per input, named by its SHA-1:

  parse_frame    whole frames: Ethernet II frames as captured, IPv4 packets from
                 Linux cooked captures (SLL, SLL2), and frames built here
                 (plain, VLAN-tagged, bare IPv4)
  parse_message  UDP payloads on ports 67/68, and messages built here
  roundtrip      the same messages as parse_message

The messages built here cover what captures rarely hold: option overload into
file and sname, options split over several instances (RFC 3396), relay agent
information, compressed domain search lists, client FQDN, classless routes,
vendor-identifying options, unknown message types and options. Only the
standard library is used.
"""

import glob
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COOKIE = bytes([99, 130, 83, 99])

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------

def opt(code, data):
    """One option, split into instances of at most 255 bytes."""
    data = bytes(data)
    if not data:
        return bytes([code, 0])
    out = b""
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes([code, len(chunk)]) + chunk
    return out


def ip(text):
    return bytes(int(x) for x in text.split("."))


def name(dotted):
    out = b""
    for label in dotted.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def header(op=1, xid=0x3903F326, chaddr=b"\x02\x00\x00\x00\x00\x01", ciaddr="0.0.0.0",
           yiaddr="0.0.0.0", siaddr="0.0.0.0", giaddr="0.0.0.0", flags=0, secs=0,
           hops=0, htype=1, sname=b"", file=b""):
    return (struct.pack("!BBBBIHH", op, htype, len(chaddr), hops, xid, secs, flags)
            + ip(ciaddr) + ip(yiaddr) + ip(siaddr) + ip(giaddr)
            + chaddr.ljust(16, b"\x00") + sname.ljust(64, b"\x00")
            + file.ljust(128, b"\x00") + COOKIE)


def message(options, pad_to=0, **fields):
    body = header(**fields) + b"".join(options) + b"\xff"
    return body.ljust(pad_to, b"\x00")


PRL = bytes([1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42])
CLIENT_ID = b"\x01\x02\x00\x00\x00\x00\x01"


def built_messages():
    msgs = []
    discover = [
        opt(53, [1]), opt(61, CLIENT_ID), opt(50, ip("192.0.2.100")),
        opt(12, b"client-one"), opt(55, PRL), opt(57, struct.pack("!H", 1500)),
    ]
    msgs.append(message(discover, pad_to=300))
    msgs.append(message(discover))
    ack = [
        opt(53, [5]), opt(54, ip("192.0.2.1")), opt(51, struct.pack("!I", 120)),
        opt(58, struct.pack("!I", 10)), opt(59, struct.pack("!I", 20)),
        opt(1, ip("255.255.255.0")), opt(28, ip("192.0.2.255")),
        opt(3, ip("192.0.2.1")), opt(6, ip("192.0.2.1") + ip("192.0.2.2")),
        opt(15, b"example.org"), opt(26, struct.pack("!H", 1400)),
        # "example.org", "lab" + pointer to "example.org"
        opt(119, name("example.org") + b"\x03lab\xc0\x00"),
        opt(121, bytes([24, 198, 51, 100]) + ip("192.0.2.254") + bytes([0]) + ip("192.0.2.1")),
        opt(42, ip("192.0.2.1")),
    ]
    msgs.append(message(ack, op=2, yiaddr="192.0.2.100", siaddr="192.0.2.1"))
    # NAK with a message.
    msgs.append(message([opt(53, [6]), opt(54, ip("192.0.2.1")),
                         opt(56, b"requested address not available")], op=2))
    # REQUEST with FQDN (wire form), user class, vendor class, relay agent info.
    relay = (bytes([1, 4]) + b"eth0" + bytes([2, 6]) + b"\x02\x00\x00\x00\x00\x01"
             + bytes([5, 4]) + ip("192.0.2.0") + bytes([9, 9]) + struct.pack("!IB", 4491, 4)
             + b"abcd" + bytes([151, 3, 0]) + b"vp" + bytes([152, 0]))
    msgs.append(message([
        opt(53, [3]), opt(81, bytes([0x05, 0, 0]) + name("host.example.org")),
        opt(77, b"\x04abcd\x02xy"), opt(60, b"MSFT 5.0"), opt(82, relay),
        opt(124, struct.pack("!IB", 4491, 5) + b"\x04docs"),
        opt(125, struct.pack("!IB", 4491, 6) + bytes([1, 4]) + b"abcd"),
        opt(93, struct.pack("!H", 7)), opt(94, [1, 3, 16]), opt(97, bytes(17)),
        opt(80, b""), opt(90, bytes([1, 1, 0]) + bytes(8) + b"key"),
    ], giaddr="192.0.2.254", hops=1))
    # FQDN in the old ASCII form, SIP servers by name and by address, SLP, iSNS.
    msgs.append(message([
        opt(53, [8]), opt(81, bytes([0x01, 0, 0]) + b"host.example.org"),
        opt(120, b"\x00" + name("sip.example.org")), opt(78, b"\x01" + ip("192.0.2.5")),
        opt(79, b"\x00scope1,scope2"), opt(83, bytes(10) + ip("192.0.2.7")),
        opt(33, ip("198.51.100.0") + ip("192.0.2.1")), opt(21, ip("10.0.0.0") + ip("255.0.0.0")),
        opt(25, struct.pack("!HH", 576, 1500)), opt(2, struct.pack("!i", -3600)),
        opt(19, [0]), opt(46, [8]), opt(68, b""), opt(117, struct.pack("!HH", 6, 41)),
    ], ciaddr="192.0.2.100"))
    msgs.append(message([opt(53, [5]), opt(120, b"\x01" + ip("192.0.2.5") + ip("192.0.2.6"))],
                        op=2))
    # A long option split in three instances, and a repeated code far apart (RFC 3396).
    msgs.append(message([
        opt(53, [5]), opt(43, bytes(range(256)) * 2), opt(6, ip("192.0.2.1")),
        opt(12, b"split-"), opt(3, ip("192.0.2.1")), opt(12, b"name"),
    ], op=2))
    # Option overload: options field, then file (1), then sname (2).
    over = header(op=2) [:44]
    sname = (opt(15, b"overloaded.example") + b"\xff").ljust(64, b"\x00")
    file = (opt(6, ip("192.0.2.1") * 10) + opt(12, b"more") + b"\xff").ljust(128, b"\x00")
    body = over + sname + file + COOKIE + opt(52, [3]) + opt(53, [5]) + opt(12, b"first") + b"\xff"
    msgs.append(body)
    body = over + b"srv".ljust(64, b"\x00") + file + COOKIE + opt(52, [1]) + opt(53, [2]) + b"\xff"
    msgs.append(body)
    # Plain BOOTP (no options), unknown message type, unknown options, pads, no end.
    msgs.append(header(op=1, sname=b"boot-server", file=b"pxelinux.0").ljust(300, b"\x00"))
    msgs.append(header() + opt(53, [200]) + opt(224, b"site") + opt(250, b"") + b"\x00\x00")
    msgs.append(message([opt(53, [7]), opt(54, ip("192.0.2.1"))], ciaddr="192.0.2.100",
                        chaddr=bytes(range(16)), htype=32))
    msgs.append(message([opt(53, [1]), opt(61, b"\xff\x00\x00\x00\x01\x00\x04" + bytes(16))],
                        flags=0x8000, secs=3))
    msgs.append(message([opt(53, [1]), opt(114, b"https://portal.example/"),
                         opt(108, struct.pack("!I", 1800)), opt(118, ip("192.0.2.0")),
                         opt(100, b"UTC0"), opt(101, b"Etc/UTC"), opt(252, b"http://wpad/")]))
    return msgs


# --------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_ipv4(payload, src="0.0.0.0", dst="255.255.255.255", sport=68, dport=67):
    udp_len = 8 + len(payload)
    pseudo = ip(src) + ip(dst) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    sum_udp = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", sum_udp) + udp[8:]
    hdr = struct.pack("!BBHHHBBH", 0x45, 0x10, 20 + udp_len, 0, 0, 64, 17, 0) + ip(src) + ip(dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + udp


def ethernet(packet, vlan=None):
    eth = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01"
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    return eth + struct.pack("!H", 0x0800) + packet


def built_frames(msgs):
    frames = []
    for i, m in enumerate(msgs):
        request = m[0] == 1
        sport, dport = (68, 67) if request else (67, 68)
        packet = udp_ipv4(m, "0.0.0.0" if request else "192.0.2.1", "255.255.255.255",
                          sport, dport)
        frames.append(ethernet(packet))
        if i % 3 == 0:
            frames.append(ethernet(packet, vlan=100))
        if i % 4 == 0:
            frames.append(packet)
    return frames


# --------------------------------------------------------------------------
# Captures
# --------------------------------------------------------------------------

def read_pcap(path):
    """Yields (linktype, packet bytes) from a classic pcap file; pcapng is skipped."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        pos += 16
        yield linktype, data[pos:pos + incl]
        pos += incl


def capture_inputs(paths):
    """Frames (what parse_frame sees) and UDP payloads on the DHCP ports."""
    frames, payloads = [], []
    for path in paths:
        for linktype, pkt in read_pcap(path):
            if linktype == LINKTYPE_ETHERNET:
                frame, ip_start = pkt, 14
                while frame[ip_start - 2:ip_start] in (b"\x81\x00", b"\x88\xa8"):
                    ip_start += 4
            elif linktype == LINKTYPE_LINUX_SLL:
                frame, ip_start = pkt[16:], 0
            elif linktype == LINKTYPE_LINUX_SLL2:
                frame, ip_start = pkt[20:], 0
            elif linktype == LINKTYPE_RAW:
                frame, ip_start = pkt, 0
            else:
                continue
            frames.append(frame)
            ipv4 = frame[ip_start:]
            if len(ipv4) < 28 or ipv4[0] >> 4 != 4 or ipv4[9] != 17:
                continue
            ihl = (ipv4[0] & 15) * 4
            sport, dport, ulen = struct.unpack("!HHH", ipv4[ihl:ihl + 6])
            if {sport, dport} & {67, 68}:
                payloads.append(ipv4[ihl + 8:ihl + ulen])
    return frames, payloads


def write_corpus(target, inputs):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for data in inputs:
        digest = hashlib.sha1(data).hexdigest()
        with open(os.path.join(folder, digest), "wb") as f:
            f.write(data)
    return len(set(inputs))


def main(argv):
    paths = argv or sorted(glob.glob(os.path.join(ROOT, "testdata", "captures", "*.pcap")))
    cap_frames, cap_payloads = capture_inputs(paths)
    msgs = built_messages()
    frames = built_frames(msgs) + cap_frames
    payloads = msgs + cap_payloads
    n_frames = write_corpus("parse_frame", frames)
    n_msgs = write_corpus("parse_message", payloads)
    write_corpus("roundtrip", payloads)
    print(f"{len(paths)} capture files: {len(cap_frames)} frames, "
          f"{len(cap_payloads)} DHCP payloads")
    print(f"seeds: parse_frame {n_frames}, parse_message/roundtrip {n_msgs}")


if __name__ == "__main__":
    main(sys.argv[1:])
