#!/usr/bin/env bash
# Installs what the end-to-end tests need, offline except for the npm registry and Debian:
#   - Debian packages: chromium (the browser Playwright drives), ripgrep (offline stand-in for
#     the rg binary code-server would download), and the headers code-server's native modules
#     build against (libkrb5-dev libxkbfile-dev libsecret-1-dev pkg-config, python3 make g++);
#   - code-server (a real VS Code 1.99 served to the browser) into a cache folder.
# Idempotent: every step checks first and does nothing when its result is already there.
#
# Cache folder: $MODEL_LAB_E2E_CACHE, default <repo>/.cache/e2e.
set -euo pipefail

readonly CODE_SERVER_VERSION=4.99.4
readonly RIPGREP_CACHE_VERSION=1.15.11                         # @vscode/ripgrep used by code-server
readonly RIPGREP_ARCHIVE=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${MODEL_LAB_E2E_CACHE:-$REPO_ROOT/.cache/e2e}
CODE_SERVER_PREFIX=$CACHE_DIR/code-server
CODE_SERVER_PKG=$CODE_SERVER_PREFIX/node_modules/code-server
# Written only after code-server's postinstall finished and the binary answered --version.
CODE_SERVER_DONE_MARKER=$CODE_SERVER_PREFIX/.installed-$CODE_SERVER_VERSION

SECONDS=0
log() { printf '[setup-e2e %3ds] %s\n' "$SECONDS" "$*"; }
fail() { printf '[setup-e2e] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'fail "command failed (line $LINENO): $BASH_COMMAND"' ERR

# ---------------------------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------------------------
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else fail "need root (or sudo) to run: $*"
  fi
}

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing_debs=()
for pkg in chromium ripgrep libkrb5-dev libxkbfile-dev libsecret-1-dev pkg-config; do
  is_installed "$pkg" || missing_debs+=("$pkg")
done
# The build tools may come from elsewhere (e.g. a pyenv python3); only ask Debian when absent.
for tool in python3 make g++; do
  command -v "$tool" >/dev/null || missing_debs+=("$tool")
done

if ((${#missing_debs[@]})); then
  command -v apt-get >/dev/null || fail "apt-get not found; install by hand: ${missing_debs[*]}"
  log "installing Debian packages: ${missing_debs[*]}"
  # Another process (another engineer's install) may hold the dpkg lock: wait for it, bounded.
  apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=2)
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq \
    || fail "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq \
    --no-install-recommends "${missing_debs[@]}" \
    || fail "apt-get install failed for: ${missing_debs[*]}"
else
  log "Debian packages present (chromium, ripgrep, build headers)"
fi
[[ -x /usr/bin/chromium ]] || fail "/usr/bin/chromium missing after installing the chromium package"
[[ -x /usr/bin/rg ]] || fail "/usr/bin/rg missing after installing the ripgrep package"

# ---------------------------------------------------------------------------------------------
# code-server
# ---------------------------------------------------------------------------------------------
# Files that exist only when code-server's own postinstall and its dependencies' install scripts
# really ran (native modules built with node-gyp, ripgrep unpacked). npm 11 may skip the install
# scripts of dependencies that are not approved, so the result is checked, not assumed.
CODE_SERVER_VSCODE=$CODE_SERVER_PKG/lib/vscode
required_build_outputs=(
  "$CODE_SERVER_PKG/out/node/entry.js"
  "$CODE_SERVER_PREFIX/node_modules/argon2/lib/binding/napi-v3/argon2.node"
  "$CODE_SERVER_VSCODE/node_modules/@vscode/spdlog/build/Release/spdlog.node"
  "$CODE_SERVER_VSCODE/node_modules/node-pty/build/Release/pty.node"
  "$CODE_SERVER_VSCODE/node_modules/native-watchdog/build/Release/watchdog.node"
  "$CODE_SERVER_VSCODE/node_modules/kerberos/build/Release/kerberos.node"
  "$CODE_SERVER_VSCODE/node_modules/@vscode/ripgrep/bin/rg"
)
missing_build_outputs() {
  local f
  for f in "${required_build_outputs[@]}"; do [[ -e $f ]] || echo "$f"; done
}

run_npm() {
  # unsafe_perm: run scripts as root without dropping privileges; yes: the postinstall runs a
  # nested `npx node-gyp` that would otherwise ask; foreground-scripts: build output in the log.
  npm_config_unsafe_perm=true npm_config_yes=true npm_config_fund=false npm_config_audit=false \
  npm_config_update_notifier=false npm_config_foreground_scripts=true \
    npm "$@"
}

if [[ -f $CODE_SERVER_DONE_MARKER && -z $(missing_build_outputs) ]]; then
  log "code-server $CODE_SERVER_VERSION already installed in $CODE_SERVER_PREFIX"
else
  rm -f "$CODE_SERVER_DONE_MARKER"
  # @vscode/ripgrep downloads rg from GitHub unless it finds this archive in its cache folder.
  node_tmp=$(node -p 'require("os").tmpdir()')
  rg_cache_dir=$node_tmp/vscode-ripgrep-cache-$RIPGREP_CACHE_VERSION
  if [[ ! -s $rg_cache_dir/$RIPGREP_ARCHIVE ]]; then
    log "packing /usr/bin/rg as $rg_cache_dir/$RIPGREP_ARCHIVE (offline ripgrep)"
    mkdir -p "$rg_cache_dir"
    staging=$(mktemp -d)
    cp /usr/bin/rg "$staging/rg"
    tar -czf "$rg_cache_dir/$RIPGREP_ARCHIVE.partial" -C "$staging" rg
    mv "$rg_cache_dir/$RIPGREP_ARCHIVE.partial" "$rg_cache_dir/$RIPGREP_ARCHIVE"
    rm -rf "$staging"
  fi

  log "npm install code-server@$CODE_SERVER_VERSION into $CODE_SERVER_PREFIX (builds native modules; about a minute)"
  mkdir -p "$CODE_SERVER_PREFIX"
  # A package.json of its own keeps npm from walking up into the repository's package.json.
  # allowScripts approves the install scripts npm 11 would otherwise only run with a notice (or
  # skip, under a stricter policy). code-server's postinstall then runs nested `npm install`s in
  # lib/vscode whose own dependencies' scripts npm 11.19 runs with a notice; the build outputs
  # are checked below either way.
  cat >"$CODE_SERVER_PREFIX/package.json" <<'JSON'
{
  "name": "model-lab-e2e-code-server",
  "private": true,
  "allowScripts": { "code-server": true, "argon2": true }
}
JSON
  install_log=$CACHE_DIR/code-server-install.log
  if ! run_npm install --prefix "$CODE_SERVER_PREFIX" "code-server@$CODE_SERVER_VERSION" >"$install_log" 2>&1; then
    tail -n 40 "$install_log" >&2
    fail "npm install code-server@$CODE_SERVER_VERSION failed; full log: $install_log"
  fi
  log "npm install finished (log: $install_log)"

  if [[ -n $(missing_build_outputs) ]]; then
    # Install scripts were skipped (e.g. a stricter npm script policy): run them explicitly.
    log "some build outputs are missing; running the install scripts explicitly (npm rebuild)"
    run_npm rebuild --prefix "$CODE_SERVER_PREFIX" >>"$install_log" 2>&1 \
      || { tail -n 40 "$install_log" >&2; fail "npm rebuild failed; full log: $install_log"; }
  fi
  missing=$(missing_build_outputs)
  [[ -z $missing ]] || fail "code-server install is incomplete (its install scripts did not run?); missing:
$missing
full log: $install_log"
fi

CODE_SERVER_BIN=$CODE_SERVER_PKG/out/node/entry.js
# --config in a temp dir: otherwise code-server writes ~/.config/code-server/config.yaml.
config_dir=$(mktemp -d)
version_line=$(node "$CODE_SERVER_BIN" --config "$config_dir/config.yaml" --version 2>/dev/null | grep -E '^[0-9]+\.' | head -n 1) || true
rm -rf "$config_dir"
[[ $version_line == "$CODE_SERVER_VERSION "* ]] \
  || fail "code-server does not answer --version with $CODE_SERVER_VERSION (got: '${version_line:-nothing}')"
touch "$CODE_SERVER_DONE_MARKER"

log "code-server: node $CODE_SERVER_BIN ($version_line)"
log "chromium:    $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
log "done in ${SECONDS}s"
