#!/usr/bin/env bash
# Prepare, on the development machine, what benchmarks/device_run.sh needs on the lent GPU
# machine, which has torch but no PyAV or diffusers and no network:
#   .whl/  PyAV (ours: --e2e), diffusers and importlib_metadata (the release's model code);
#   .ref/SwiftVR/  the official release's Python source.
# Both folders are in .gitignore: carried, never committed.
# Then one device call: command "bash benchmarks/device_run.sh", carry [".whl", ".ref"].
#
#   bash benchmarks/device_prep.sh /path/to/SwiftVR-checkout-or-bare-mirror
set -euo pipefail
cd "$(dirname "$0")/.."
release=${1:?usage: device_prep.sh RELEASE_REPO (a checkout or a bare git mirror of the official SwiftVR)}
PY=${PY:-.venv/bin/python}

rm -rf .whl && mkdir -p .whl
# The device's python is 3.12 (KINDS.md); av's abi3 wheel serves it. Versions as tested with
# the release on CPU (benchmarks/reference_parity.py): diffusers 0.36.0.
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "av>=16,<19" diffusers==0.36.0 importlib_metadata zipp

rm -rf .ref && mkdir -p .ref/SwiftVR
if [ -d "$release/.git" ] || git -C "$release" rev-parse --is-bare-repository >/dev/null 2>&1; then
    # file by file: the code only, and a partial mirror (images missing) is enough
    git -C "$release" ls-tree -r --name-only HEAD swiftvr setup.py | while read -r path; do
        mkdir -p ".ref/SwiftVR/$(dirname "$path")"
        git -C "$release" show "HEAD:$path" > ".ref/SwiftVR/$path"
    done
else
    cp -r "$release/swiftvr" "$release/setup.py" .ref/SwiftVR/
fi

tracked=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
carried=$(du -cb .whl .ref | tail -1 | cut -f1)
echo "travels: $(( (tracked + carried) / 1048576 )) MiB of 64 (tracked $(( tracked / 1048576 )), carried $(( carried / 1048576 )))"
