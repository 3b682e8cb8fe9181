#!/bin/sh
# Captures the fuzz targets' seed corpora (fuzz/capture.py) inside a
# private network namespace, deleted afterwards. Run as root from the
# repository's top directory.
set -eu
ns="lnetstat-fuzz-$$"
ip netns add "$ns"
trap 'ip netns delete "$ns"' EXIT
ip netns exec "$ns" python3 fuzz/capture.py "${1:-fuzz/corpus}"
