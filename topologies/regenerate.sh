#!/usr/bin/env sh
# Regenerate the shipped presets and the JSON Schema from the generators.
# tests/bagctl/topology/test_generate.py fails if these files drift from what the code builds.
set -eu
cd "$(dirname "$0")/.."
BAGCTL="${BAGCTL:-.venv/bin/bagctl}"
PYTHON="${PYTHON:-.venv/bin/python}"
for preset in mini region two-region-planar two-region-spread prometheus clos; do
  "$BAGCTL" topo gen --preset "$preset" -o "topologies/$preset.yaml"
done
"$PYTHON" -m bagctl.topology.schema
