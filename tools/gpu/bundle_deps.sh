#!/usr/bin/env bash
# Copies the header-only / source dependencies into .deps/ so that a bare GPU machine with only
# nvcc, cmake and gcc (no apt access) can build the project:   tools/gpu/bundle_deps.sh
# Then run tools/gpu/check.sh there with .deps/ next to it. .deps/ is not committed (.gitignore).
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .deps && mkdir -p .deps/include .deps/share/cmake .deps/src
cp -r /usr/include/eigen3 .deps/include/
mkdir -p .deps/share/eigen3 && cp -r /usr/share/eigen3/cmake .deps/share/eigen3/
cp -r /usr/include/nlohmann .deps/include/
cp -r /usr/share/cmake/nlohmann_json .deps/share/cmake/
cp -r /usr/src/googletest .deps/src/
du -sh .deps
