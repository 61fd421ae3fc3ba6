#!/usr/bin/env bash
# Runs a command-line tool of s4-mamba-in-depth on this machine's GPU, from this folder alone (no
# Node.js, no network):
#
#   ./run.sh train|sample|bench [--allow-software-adapter] [flags of the tool]
#
# The first run checks and unpacks the payload (Node, the tools, Dawn, the Vulkan loader, MNIST)
# into $S4_BUNDLE_UNPACK_DIR (default ${TMPDIR:-/tmp}/s4-gpu-bundle-<uid>)/<payload id>; later runs
# find it there. Nothing is written into it afterwards: the tools write where their flags say.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  cat <<USAGE
usage: $0 <tool> [--allow-software-adapter] [flags of the tool]
  <tool>                    train, sample or bench ($0 <tool> --help lists its flags)
  --allow-software-adapter  run even where the only WebGPU adapter runs on the CPU (Mesa's
                            lavapipe, SwiftShader); S4_ALLOW_SOFTWARE_ADAPTER=1 does the same
Environment: VK_DRIVER_FILES or VK_ICD_FILENAMES pick the Vulkan driver (default: the NVIDIA
driver's nvidia_icd.json); S4_BUNDLE_UNPACK_DIR says where the payload is unpacked.
USAGE
}

fail() {
  echo "run.sh: $*" >&2
  exit 1
}

case "${1:-}" in
  train | sample | bench) ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  "")
    echo "run.sh: no tool given; expected one of: train, sample, bench" >&2
    usage >&2
    exit 2
    ;;
  *)
    echo "run.sh: unknown tool \"$1\"; expected one of: train, sample, bench" >&2
    usage >&2
    exit 2
    ;;
esac

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || fail "this bundle runs on Linux x86-64; this machine is $(uname -s) $(uname -m)"
for cmd in tar gzip sha256sum; do
  command -v "$cmd" >/dev/null || fail "'$cmd' is needed to unpack the payload and is not installed"
done

payload_id=$(cat "$here/payload.id" 2>/dev/null) || fail "$here/payload.id is missing: the bundle is incomplete; build or copy it again"
base=${S4_BUNDLE_UNPACK_DIR:-${TMPDIR:-/tmp}/s4-gpu-bundle-$(id -u)}
root=$base/$payload_id

# bundle.json is in the payload: it exists once a complete unpacking has been renamed into place.
if [ ! -f "$root/bundle.json" ]; then
  echo "run.sh: unpacking the payload into $root (first run only)" >&2
  mkdir -p "$base" || fail "cannot create $base; set S4_BUNDLE_UNPACK_DIR to a writable folder"
  (cd "$here" && sha256sum --quiet --check payload.sha256) >&2 ||
    fail "the payload does not match payload.sha256: the bundle was damaged or changed; copy it again"
  staging=$(mktemp -d "$base/.unpacking-XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  while read -r _ part; do
    tar -xzf "$here/$part" -C "$staging" || fail "could not unpack $part into $staging (disk full?)"
  done <"$here/payload.sha256"
  # Another run may have finished unpacking first: then its copy is used.
  mv -T "$staging" "$root" 2>/dev/null || [ -f "$root/bundle.json" ] || fail "could not move the payload into $root"
  rm -rf "$staging"
  trap - EXIT
fi

# Dawn opens libvulkan.so.1 at run time: the bundled loader comes first.
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$root/bin/node" "$root/dist/cli/gpu-launch.js" "$@"
