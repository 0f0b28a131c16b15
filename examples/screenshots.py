#!/usr/bin/env python3
"""Screenshots of a gpucomm report.html in headless Chromium (Debian's chromium), page by page or from a heading.
Pages are taken by shifting the body up, since headless screenshots show the top of the page only.
usage: screenshots.py report.html outdir WIDTH HEIGHT [first-heading-text max-pages prefix]"""
import json, os, re, subprocess, sys, tempfile
src, outdir, width, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
start_text = sys.argv[5] if len(sys.argv) > 5 else None
maxpages = int(sys.argv[6]) if len(sys.argv) > 6 else 99
html = open(src).read()
d = os.path.dirname(os.path.abspath(src))
chrome = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
probe = html.replace("</body>", """<script>
var o=[];document.querySelectorAll('h1,h2,h3').forEach(function(h){o.push([h.textContent,h.getBoundingClientRect().top+window.scrollY]);});
var p=document.createElement('pre');p.id='offsets';p.textContent=JSON.stringify({h:o,total:document.body.scrollHeight});document.body.appendChild(p);
</script></body>""")
tmp = os.path.join(d, ".probe.html")
open(tmp, "w").write(probe)
dom = subprocess.run(chrome + [f"--window-size={width},{height}", "--dump-dom", "file://" + tmp], capture_output=True, text=True).stdout
os.remove(tmp)
m = re.search(r'<pre id="offsets">(.*?)</pre>', dom, re.S)
info = json.loads(m.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"'))
total = int(info["total"])
y0 = 0
if start_text:
    y0 = int(next(y for t, y in info["h"] if start_text in t)) - 10
os.makedirs(outdir, exist_ok=True)
page, y = 1, y0
while y < total and page <= maxpages:
    shot = html.replace("</head>", f"<style>html{{overflow:hidden}} body{{position:relative; top:-{y}px}}</style></head>")
    tmp = os.path.join(d, ".shot.html")
    open(tmp, "w").write(shot)
    out = os.path.join(outdir, f"page-{page}.png" if not start_text else f"{sys.argv[7] if len(sys.argv) > 7 else 'section'}-{page}.png")
    subprocess.run(chrome + [f"--window-size={width},{height}", f"--screenshot={out}", "file://" + tmp], capture_output=True)
    os.remove(tmp)
    print(out, y)
    page += 1
    y += height - 40
