#!/bin/sh
# Install mcp-workbench (Linux, macOS) with uv, then add it to an MCP client.
#
#   curl -LsSf https://raw.githubusercontent.com/mcp-workbench/mcp-workbench/main/install.sh | sh
#   curl -LsSf https://raw.githubusercontent.com/mcp-workbench/mcp-workbench/main/install.sh | sh -s -- cursor --root ~/projects
#
# Arguments, if any, go to `mcp-workbench install` (a client name and its options); without
# them, an interactive run asks which client to add it to. uv is installed first if it is
# missing (https://docs.astral.sh/uv/). The tool is installed with compiled bytecode: a client
# starts it cold, often within a few seconds' window.
#
# Environment:
#   MCP_WORKBENCH_PACKAGE          what to install (default: mcp-workbench from PyPI; a version
#                                  such as mcp-workbench==0.1.0, a wheel file, a git URL)
#   MCP_WORKBENCH_CLIENT           a client to add it to, when no argument names one
#   MCP_WORKBENCH_UV_INSTALLER_URL where uv's installer comes from (default: astral.sh)
#   UV_*                           uv's own settings (index, cache, offline, ...) apply
set -eu

PACKAGE="${MCP_WORKBENCH_PACKAGE:-mcp-workbench}"
UV_INSTALLER_URL="${MCP_WORKBENCH_UV_INSTALLER_URL:-https://astral.sh/uv/install.sh}"

say() {
  printf 'mcp-workbench: %s\n' "$*" >&2
}

die() {
  say "$*"
  exit 1
}

find_uv() {
  if command -v uv >/dev/null 2>&1; then
    command -v uv
    return 0
  fi
  for candidate in "${UV_INSTALL_DIR:-}/uv" "${XDG_BIN_HOME:-}/uv" "$HOME/.local/bin/uv" "${CARGO_HOME:-$HOME/.cargo}/bin/uv"; do
    if [ -x "$candidate" ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

download() {
  if command -v curl >/dev/null 2>&1; then
    curl -LsSf "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -qO- "$1"
  else
    die "neither curl nor wget is installed: install one of them, or uv itself (https://docs.astral.sh/uv/)"
  fi
}

if ! uv_bin=$(find_uv); then
  say "uv is not installed; installing it from $UV_INSTALLER_URL"
  installer=$(download "$UV_INSTALLER_URL") || die "could not download uv's installer from $UV_INSTALLER_URL"
  printf '%s\n' "$installer" | sh || die "uv's installer failed (see above)"
  uv_bin=$(find_uv) || die "uv was installed but cannot be found: open a new shell and run this again"
fi
say "using $("$uv_bin" --version) at $uv_bin"

say "installing $PACKAGE"
"$uv_bin" tool install --force --compile-bytecode "$PACKAGE" || die "uv could not install $PACKAGE (see above)"

bin_dir=$("$uv_bin" tool dir --bin)
workbench="$bin_dir/mcp-workbench"
[ -x "$workbench" ] || die "installed, but $workbench is missing"
say "installed: $("$workbench" --version) at $workbench"
case ":${PATH}:" in
  *":$bin_dir:"*) ;;
  *) say "$bin_dir is not on your PATH: run \`$uv_bin tool update-shell\` (or add it yourself) to type just mcp-workbench" ;;
esac

if [ "$#" -eq 0 ] && [ -n "${MCP_WORKBENCH_CLIENT:-}" ]; then
  set -- "$MCP_WORKBENCH_CLIENT"
fi
if [ "$#" -gt 0 ]; then
  exec "$workbench" install "$@"
fi

if [ -t 2 ] && { : </dev/tty; } 2>/dev/null; then
  "$workbench" install --list >&2 || true
  printf 'Add it to which client? (a name from the list; empty: none) ' >&2
  read -r client </dev/tty || client=""
  if [ -n "$client" ]; then
    exec "$workbench" install "$client"
  fi
fi
say "add it to a client with: $workbench install CLIENT   (list them: $workbench install --list)"
