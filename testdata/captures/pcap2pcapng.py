#!/usr/bin/env python3
"""Convert a classic libpcap file into a pcapng file.

Usage: pcap2pcapng.py INPUT.pcap OUTPUT.pcapng [INTERFACE-NAME]

Writes one Section Header Block, one Interface Description Block (with the
link type and snap length of the input, an if_name option when a name is
given and an if_tsresol option matching the input's timestamp precision) and
one Enhanced Packet Block per packet.  Only the standard library is used.
"""

import struct
import sys

# Classic pcap magic numbers, as read in little-endian order.
MAGIC_USEC = 0xA1B2C3D4
MAGIC_NSEC = 0xA1B23C4D


def pad4(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + pad4(value)


def block(block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    (magic,) = struct.unpack_from("<I", data, 0)
    if magic in (MAGIC_USEC, MAGIC_NSEC):
        endian = "<"
    else:
        (magic,) = struct.unpack_from(">I", data, 0)
        if magic not in (MAGIC_USEC, MAGIC_NSEC):
            raise SystemExit(f"{path}: not a classic pcap file")
        endian = ">"
    nsec = magic == MAGIC_NSEC
    _, _, _, _, snaplen, linktype = struct.unpack_from(endian + "HHiIII", data, 4)
    packets = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, origlen = struct.unpack_from(endian + "IIII", data, off)
        off += 16
        packets.append((sec, frac, origlen, data[off : off + caplen]))
        off += caplen
    return nsec, snaplen, linktype & 0x0FFFFFFF, packets


def main() -> None:
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    ifname = sys.argv[3] if len(sys.argv) == 4 else None
    nsec, snaplen, linktype, packets = read_pcap(src)

    out = bytearray()
    # Section Header Block: byte-order magic, version 1.0, unknown section length.
    shb_opts = option(4, b"charrua pcap2pcapng.py") + option(0, b"")
    out += block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + shb_opts)

    # Interface Description Block.
    idb_opts = b""
    if ifname:
        idb_opts += option(2, ifname.encode())
    idb_opts += option(9, bytes([9 if nsec else 6]))  # if_tsresol: 10^-9 or 10^-6
    idb_opts += option(0, b"")
    out += block(0x00000001, struct.pack("<HHI", linktype, 0, snaplen) + idb_opts)

    # One Enhanced Packet Block per packet, timestamps in if_tsresol units.
    scale = 1_000_000_000 if nsec else 1_000_000
    for sec, frac, origlen, payload in packets:
        ts = sec * scale + frac
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(payload), origlen)
        out += block(0x00000006, body + pad4(payload))

    with open(dst, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
