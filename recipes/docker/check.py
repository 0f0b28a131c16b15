"""Checks a Dockerfile without a Docker engine: parse it with BuildKit's own parser (the `dockerfile`
package), shellcheck every RUN as POSIX sh with the ARGs and ENVs declared, and require every ENV it sets
to be documented in recipes/README.md. Usage: python check.py Dockerfile... (exit 1 on a problem)."""
import os
import re
import subprocess
import sys
import tempfile

import dockerfile

readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
problems = []
for path in sys.argv[1:]:
    try:
        commands = dockerfile.parse_file(path)
    except dockerfile.GoParseError as error:
        problems.append(f"{path}: does not parse: {error}")
        continue
    declared = []  # ARG and ENV names in force, for shellcheck
    stages = 0
    for c in commands:
        if c.cmd == "FROM":
            stages += 1
        elif c.cmd == "ARG":
            declared += [v.split("=", 1)[0] for v in c.value]
        elif c.cmd == "ENV":
            names = c.value[0::2]
            declared += names
            for name in names:
                if f"`{name}`" not in readme:
                    problems.append(f"{path}:{c.start_line}: ENV {name} is not documented in recipes/README.md")
        elif c.cmd == "RUN":
            script = "#!/bin/sh\n" + "".join(f": \"${{{n}:=}}\"\n" for n in declared) + c.value[0] + "\n"
            with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
                f.write(script)
            run = subprocess.run(["shellcheck", "-s", "sh", "-f", "gcc", f.name], capture_output=True, text=True)
            os.unlink(f.name)
            for line in run.stdout.splitlines():
                problems.append(f"{path}:{c.start_line}: RUN: {line.split(':', 3)[-1].strip()}")
    if stages < 2:
        problems.append(f"{path}: expected a build stage and a runtime stage")
    if not any(c.cmd == "COPY" and any("--from=build" in f for f in c.flags) for c in commands):
        problems.append(f"{path}: the runtime stage does not copy gpucomm from the build stage")
for p in problems:
    print(p)
print(f"{len(sys.argv) - 1} Dockerfile(s), {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
