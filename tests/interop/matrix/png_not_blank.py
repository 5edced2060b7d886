#!/usr/bin/env python3
"""Check that a PNG exists, decodes, and is not blank: decode it with the standard library
(zlib + PNG row filters) and require a share of pixels that differ from the corner pixel.
Usage: png_not_blank.py FILE [MIN_FRACTION]   exit 0 = fine, 1 = blank or broken."""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, ihdr = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not ihdr:
        raise ValueError("no IHDR chunk")
    width, height, depth, color, _, _, interlace = ihdr
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG layout (depth {depth}, color {color}, interlace {interlace})")
    raw = zlib.decompress(b"".join(idat))
    stride, bpp = width * channels, channels
    rows, prev, off = [], bytearray(stride), 0
    for _ in range(height):
        ftype, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        off += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def main():
    path = sys.argv[1]
    min_fraction = float(sys.argv[2]) if len(sys.argv) > 2 else 0.005
    try:
        width, height, channels, rows = pixels(path)
    except (OSError, ValueError, zlib.error) as e:
        print(f"png_not_blank: {path}: {e}")
        return 1
    corner = rows[0][:channels]
    total = differ = 0
    for row in rows[::4]:  # every 4th row is plenty to tell a page from a blank
        for x in range(0, len(row), channels):
            total += 1
            differ += row[x:x + channels] != corner
    fraction = differ / total if total else 0.0
    print(f"png_not_blank: {path}: {width}x{height}, {fraction:.1%} of sampled pixels differ from the corner")
    return 0 if fraction >= min_fraction else 1


if __name__ == "__main__":
    sys.exit(main())
