#!/usr/bin/env bash
# Sets this repository up and runs the main job, on a fresh machine or again on a set-up one:
#
#   1. npm packages (npm ci from package-lock.json; skipped when node_modules is up to date)
#   2. Jupyter: a Python that imports nbclient and nbconvert; installed from apt when missing and
#      we are root on Debian/Ubuntu, else the script says what to install and stops
#   3. the tslab kernel, registered with that Python and pointing at this checkout's tslab
#   4. npm run build, which also links the package into node_modules so notebooks can
#      `import ... from "s4-mamba-in-depth"`
#   5. the main job: notebooks/s4_in_depth.ipynb, executed into build/notebooks/, in the quick size
#      tier (a check that everything works; `npm start` runs it at the size this machine affords)
#
# Environment:
#   S4_SIZE=TIER      run the main job in another size tier: cpu (minutes) or gpu (the anchor's sizes)
#   S4_PYTHON=PATH    use this Python for Jupyter instead of searching
#   S4_APT_UPDATED=1  the apt package lists are fresh: skip `apt-get update`
#
# Safe to run again: each step is skipped or cheap when already done. Never edits apt sources.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
TSLAB="$ROOT/node_modules/.bin/tslab"
JUPYTER_IMPORTS="import nbclient, nbconvert, nbformat, jupyter_client, IPython"
APT_PACKAGES=(jupyter-nbconvert python3-nbclient jupyter-notebook python3-ipykernel)

step_start=$SECONDS
step() {
  printf '\n== setup: %s\n' "$*"
  step_start=$SECONDS
}
done_step() { printf '   (%ss)\n' "$((SECONDS - step_start))"; }
die() {
  printf '\nsetup: %s\n' "$*" >&2
  exit 1
}

check_node() {
  command -v node >/dev/null && command -v npm >/dev/null ||
    die "Node.js 20 or newer with npm is needed (Debian: see https://github.com/nodesource/distributions)."
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js $(node --version) is too old; version 20 or newer is needed."
}

# npm ci wipes and reinstalls node_modules, so run it only when the lockfile changed since the
# last install (npm keeps its record of that install in node_modules/.package-lock.json).
install_npm_packages() {
  step "npm packages"
  local record=node_modules/.package-lock.json
  if [ -f package-lock.json ] && [ -f "$record" ] && [ "$record" -nt package-lock.json ]; then
    echo "   node_modules is up to date with package-lock.json"
  elif [ -f package-lock.json ]; then
    npm ci
  else
    npm install
  fi
  done_step
}

has_jupyter() { "$1" -c "$JUPYTER_IMPORTS" >/dev/null 2>&1; }

# Prints the first Python that has Jupyter; Debian's own python3 first, since apt installs there.
find_python() {
  local candidates=(/usr/bin/python3 python3 python)
  [ -n "${S4_PYTHON:-}" ] && candidates=("$S4_PYTHON")
  local py
  for py in "${candidates[@]}"; do
    if has_jupyter "$py"; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

can_use_apt() {
  [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null
}

install_jupyter_hint() {
  cat >&2 <<EOF

setup: no Python with Jupyter (nbclient, nbconvert, ipykernel) was found${S4_PYTHON:+ at S4_PYTHON=$S4_PYTHON}.
Install it, then run this script again:
  Debian/Ubuntu:  sudo apt-get install ${APT_PACKAGES[*]}
  elsewhere:      pip install jupyterlab nbconvert nbclient
                  (then S4_PYTHON=\$(which python3) bash scripts/setup.sh if that python is not the first on PATH)
EOF
  exit 1
}

ensure_jupyter() {
  step "Jupyter"
  if ! PYTHON=$(find_python); then
    can_use_apt && [ -z "${S4_PYTHON:-}" ] || install_jupyter_hint
    echo "   installing from apt: ${APT_PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    [ "${S4_APT_UPDATED:-}" = 1 ] || apt-get update
    apt-get install -y "${APT_PACKAGES[@]}"
    PYTHON=$(find_python) || install_jupyter_hint
  fi
  echo "   $PYTHON: nbclient $("$PYTHON" -c 'import nbclient; print(nbclient.__version__)'), nbconvert $("$PYTHON" -c 'import nbconvert; print(nbconvert.__version__)')"
  done_step
}

# The kernel spec names the command that starts tslab; an absolute path to this checkout's binary
# works without node_modules/.bin on PATH (e.g. when JupyterLab is started from a desktop menu).
registered_tslab() {
  "$PYTHON" -c 'from jupyter_client.kernelspec import KernelSpecManager as K; print(K().get_kernel_spec("tslab").argv[0])' 2>/dev/null
}

register_kernel() {
  step "tslab kernel"
  if [ "$(registered_tslab || true)" = "$TSLAB" ]; then
    echo "   already registered: $TSLAB"
  else
    "$TSLAB" install --python="$PYTHON" --binary="$TSLAB"
    [ "$(registered_tslab || true)" = "$TSLAB" ] || die "registering the tslab kernel with $PYTHON did not work (see above)."
  fi
  done_step
}

build() {
  step "build (npm run build, then the package self-link)"
  npm run build
  [ -L node_modules/s4-mamba-in-depth ] || die "node_modules/s4-mamba-in-depth was not linked by npm run build."
  done_step
}

run_main_job() {
  local size=${S4_SIZE:-quick}
  step "main job: notebooks/s4_in_depth.ipynb (size tier $size)"
  S4_PYTHON="$PYTHON" npm run notebooks -- s4_in_depth --size "$size"
  done_step
}

total_start=$SECONDS
check_node
install_npm_packages
ensure_jupyter
register_kernel
build
run_main_job
printf '\n== setup: done in %ss. Executed notebook and HTML: build/notebooks/\n' "$((SECONDS - total_start))"
