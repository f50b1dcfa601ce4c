#!/usr/bin/env python3
"""Hot-code ordering for the linker (used by scripts/filamentd-text-order.sh).

usage: text-order.py BINARY LLD_MAP PAGES... > ORDER

BINARY is the profiled executable, LLD_MAP the map lld wrote when linking it (-Map), PAGES files of
8-byte file offsets of the code pages a run touched (scripts/pagetrace.c). Prints, in address
order, one symbol per input section of .text that overlaps a touched page: the
--symbol-ordering-file that makes lld place exactly these sections first, contiguous. Sections
are whole functions (the daemon is compiled with -function-sections; the standard library's
runtime objects are too) except the Swift standard library's own Swift.o, whose 1.6 MB of code is
one section: it moves as a whole. Sections without a symbol (`.text..L*`) cannot be listed; the
linker script packaging/filamentd-layout.ld places all of them first.
"""
import struct
import subprocess
import sys


def load_segment(binary):
    """(p_offset, p_vaddr, p_filesz) of the executable LOAD segment."""
    out = subprocess.run(["readelf", "-l", "-W", binary], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD" and "E" in f[6:-1]:
            return int(f[1], 16), int(f[2], 16), int(f[4], 16)
    sys.exit(f"text-order: no executable LOAD segment in {binary}")


def touched_pages(paths, seg):
    p_offset, p_vaddr, _ = seg
    pages = set()
    for path in paths:
        data = open(path, "rb").read()
        for (off,) in struct.iter_unpack("<Q", data[: len(data) // 8 * 8]):
            pages.add((off - p_offset + p_vaddr) // 4096)
    return pages


def text_sections(map_path):
    """[(vaddr, size, first symbol)] of the input sections of the output section .text."""
    sections, in_text, current, columns = [], False, None, None
    for line in open(map_path):
        if columns is None:                     # header: VMA LMA Size Align Out In Symbol
            columns = (line.index(" Out") + 1, line.index(" In ") + 1, line.index(" Symbol") + 1)
            continue
        f = line.split()
        if len(f) < 5:
            continue
        column = len(line) - len(line[columns[0]:].lstrip(" "))
        if column == columns[0]:                # an output section
            in_text = f[4] == ".text"
            current = None
        elif not in_text:
            continue
        elif column == columns[1]:              # an input section: path:(.text.foo)
            current = [int(f[0], 16), int(f[2], 16), None]
            sections.append(current)
        elif column == columns[2] and current is not None and current[2] is None:
            current[2] = " ".join(f[4:])        # its first symbol
    return [(a, s, sym) for a, s, sym in sections if s > 0 and sym]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    binary, map_path, page_files = sys.argv[1], sys.argv[2], sys.argv[3:]
    pages = touched_pages(page_files, load_segment(binary))
    if not pages:
        sys.exit("text-order: no touched pages in the trace")
    seen, hot, size = set(), [], 0
    for addr, length, sym in text_sections(map_path):
        if sym in seen:
            continue
        if any(p in pages for p in range(addr // 4096, (addr + length - 1) // 4096 + 1)):
            seen.add(sym)
            hot.append(sym)
            size += length
    sys.stderr.write(f"text-order: {len(pages)} touched pages, {len(hot)} hot sections, {size // 1024} KiB\n")
    print("\n".join(hot))


main()
