#!/usr/bin/env bash
# Print the path of the first working Python >= 3.12. Candidates are *run*, not just
# looked up: on pyenv machines `python3.12` on PATH can be a shim that fails.
set -u
want_major=3; want_minor=12
cands=("${PYTHON:-}" python3.13 python3.12 python3 python)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for p in "$root"/versions/3.1[2-9]*/bin/python3; do cands+=("$p"); done
fi
for p in /usr/bin/python3.13 /usr/bin/python3.12 /usr/local/bin/python3.13 /usr/local/bin/python3.12; do cands+=("$p"); done
for c in "${cands[@]}"; do
  [ -n "$c" ] || continue
  out=$("$c" -c "import sys, venv; print(sys.executable if sys.version_info >= ($want_major, $want_minor) else '')" 2>/dev/null) || continue
  if [ -n "$out" ]; then echo "$out"; exit 0; fi
done
echo "error: no working Python >= 3.12 found (tried: ${cands[*]}). Install Python 3.12 or newer, or set PYTHON=/path/to/python3.12." >&2
exit 1
