#!/usr/bin/env python3
"""Draws bench/report/times.tsv as an SVG: wall time of `gpucomm report` per run, by record count,
with the 5 s budget for 1,000,000 records. Usage: plot.py times.tsv out.svg"""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
sizes = sorted({int(r["records"]) for r in rows})
W, H, L, R, T, B = 680, 360, 70, 40, 50, 60
top = max(6.0, max(float(r["wall_s"]) for r in rows) * 1.1)
def y(v): return T + (H - T - B) * (1 - v / top)
slot = (W - L - R) / len(sizes)
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
       f'<rect width="100%" height="100%" fill="#ffffff"/>',
       f'<text x="{W/2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">gpucomm report: wall time by number of records</text>',
       f'<text x="{W/2}" y="38" text-anchor="middle" fill="#444444">release build, 2-core machine shared with other builds; each dot one run</text>']
step = 1 if top <= 8 else 2
v = 0
while v <= top:
    out.append(f'<line x1="{L}" y1="{y(v):.1f}" x2="{W-R}" y2="{y(v):.1f}" stroke="#e0e0e0"/>')
    out.append(f'<text x="{L-6}" y="{y(v)+4:.1f}" text-anchor="end">{v}</text>')
    v += step
out.append(f'<line x1="{L}" y1="{y(5):.1f}" x2="{W-R}" y2="{y(5):.1f}" stroke="#D55E00" stroke-width="1.5" stroke-dasharray="8 4"/>')
out.append(f'<text x="{W-R-4}" y="{y(5)-6:.1f}" text-anchor="end" fill="#D55E00">budget for 1,000,000 records: 5 s</text>')
for i, n in enumerate(sizes):
    cx = L + slot * (i + 0.5)
    walls = [float(r["wall_s"]) for r in rows if int(r["records"]) == n]
    for j, w in enumerate(walls):
        out.append(f'<circle cx="{cx - 20 + 40 * j / max(len(walls) - 1, 1):.1f}" cy="{y(w):.1f}" r="4" fill="#0072B2"><title>{w} s</title></circle>')
    med = sorted(walls)[len(walls) // 2]
    out.append(f'<line x1="{cx-28:.1f}" y1="{y(med):.1f}" x2="{cx+28:.1f}" y2="{y(med):.1f}" stroke="#000000" stroke-width="2"/>')
    out.append(f'<text x="{cx:.1f}" y="{H-B+18}" text-anchor="middle">{n:,} records</text>')
    out.append(f'<text x="{cx+32:.1f}" y="{y(med)+4:.1f}">median {med:.2f} s</text>')
out.append(f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="#000000"/>')
out.append(f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="#000000"/>')
out.append(f'<text x="18" y="{(T+H-B)/2:.1f}" text-anchor="middle" font-weight="bold" transform="rotate(-90 18 {(T+H-B)/2:.1f})">wall time (s)</text>')
out.append(f'<text x="{(L+W-R)/2:.1f}" y="{H-16}" text-anchor="middle" font-weight="bold">input size (gpucomm result records, JSON Lines)</text>')
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
