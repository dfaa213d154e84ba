#!/usr/bin/env bash
# Installs the pgvector extension into the system PostgreSQL (Debian bookworm), from the Debian
# source package of the next release (trixie), because bookworm packages no pgvector for its
# PostgreSQL 15. Idempotent: exits at once when `vector` is already available.
#
#   PG_VERSION      PostgreSQL major version to build for (default: the newest in /etc/postgresql,
#                   else the newest /usr/lib/postgresql/*)
#   PGVECTOR_SUITE  Debian suite to take the source from (default: trixie)
#
# Needs root, apt, and postgresql-server-dev-$PG_VERSION (installed here when missing). The
# mirror is the one this machine's apt sources already use: read at run time, never hard-coded.
set -euo pipefail

log() { echo "[install-pgvector] $*"; }

pick_pg_version() {
  local v=""
  if [[ -d /etc/postgresql ]]; then v=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1 || true); fi
  if [[ -z "$v" && -d /usr/lib/postgresql ]]; then v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true); fi
  echo "${v:-15}"
}

PG_VERSION="${PG_VERSION:-$(pick_pg_version)}"
SUITE="${PGVECTOR_SUITE:-trixie}"
SHAREDIR="/usr/share/postgresql/${PG_VERSION}"
PG_CONFIG="/usr/lib/postgresql/${PG_VERSION}/bin/pg_config"

# 1. Already there? (control file installed, or a running server lists it)
if [[ -f "${SHAREDIR}/extension/vector.control" ]]; then
  log "vector is already available for PostgreSQL ${PG_VERSION} ($(grep -E '^default_version' "${SHAREDIR}/extension/vector.control" | tr -d "'" | awk '{print $3}'))"
  exit 0
fi
if command -v psql >/dev/null 2>&1 &&
  [[ "$(psql -X -At -h 127.0.0.1 -U postgres -d postgres -c "select count(*) from pg_available_extensions where name = 'vector'" 2>/dev/null || true)" == "1" ]]; then
  log "vector is already available in the running PostgreSQL"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-pgvector: must run as root (apt-get, make install)" >&2
  exit 1
fi

# 2. Build prerequisites.
export DEBIAN_FRONTEND=noninteractive
if [[ ! -x "$PG_CONFIG" ]] || ! command -v make >/dev/null || ! command -v gcc >/dev/null; then
  log "installing postgresql-server-dev-${PG_VERSION} and a C toolchain"
  apt-get update -qq
  apt-get install -y -qq "postgresql-server-dev-${PG_VERSION}" make gcc >/dev/null
fi

# 3. The mirror this machine already uses, from deb822 sources (Types: deb … URIs: …) or a legacy
#    one-line sources.list; the first non-security Debian archive wins.
mirror_uri() {
  local f uri
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    uri=$(awk '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) { types = $i }
          if ($i ~ /^URIs:/)  { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
        }
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && uris != "") {
          n = split(uris, u, /[ \t]+/)
          for (j = 1; j <= n; j++) if (u[j] !~ /security/ && u[j] ~ /debian\/?$/) { print u[j]; exit }
        }
      }' "$f")
    if [[ -n "$uri" ]]; then echo "$uri"; return; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($i !~ /security/ && $i ~ /debian\/?$/) { print $i; exit } ; break } }' "$f")
    if [[ -n "$uri" ]]; then echo "$uri"; return; fi
  done
}

MIRROR="$(mirror_uri)"
if [[ -z "$MIRROR" ]]; then
  echo "install-pgvector: no Debian mirror found in /etc/apt/sources.list.d/*.sources or sources.list" >&2
  exit 1
fi
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
log "source: ${MIRROR} ${SUITE} (deb-src), building for PostgreSQL ${PG_VERSION}"

# 4. A private apt configuration holding only the deb-src entry: the system's sources stay as
#    they were, and the update fetches one Sources index.
WORK="$(mktemp -d /tmp/pgvector-build.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/archives/partial"
# apt downloads as the unprivileged _apt user: let it reach the work folder.
chmod 0755 "$WORK"
if id _apt >/dev/null 2>&1; then chown -R _apt "$WORK/lists" "$WORK/archives"; chown _apt "$WORK"; fi
cat >"$WORK/pgvector-src.sources" <<EOF
Types: deb-src
URIs: ${MIRROR}
Suites: ${SUITE}
Components: main
Signed-By: ${KEYRING}
EOF
APT_OPTS=(
  -o "Dir::Etc::sourcelist=$WORK/pgvector-src.sources"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::lists=$WORK/lists"
  -o "Dir::Cache::archives=$WORK/archives"
  -o "APT::Get::List-Cleanup=0"
)
apt-get "${APT_OPTS[@]}" update -qq
(cd "$WORK" && apt-get "${APT_OPTS[@]}" source --download-only -qq pgvector)

# 5. Upstream source only (the .orig tarball); Debian's packaging is not needed for make.
ORIG="$(ls "$WORK"/pgvector_*.orig.tar.* 2>/dev/null | head -1 || true)"
if [[ -z "$ORIG" ]]; then
  echo "install-pgvector: apt-get source downloaded no pgvector_*.orig.tar.* into $WORK" >&2
  ls -l "$WORK" >&2
  exit 1
fi
mkdir -p "$WORK/src"
tar -xf "$ORIG" -C "$WORK/src" --strip-components=1
log "building $(basename "$ORIG")"
# OPTFLAGS="": no -march=native, so the build runs on any x86-64/arm64 CPU.
make -s -C "$WORK/src" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" -j"$(nproc)" >/dev/null
make -s -C "$WORK/src" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" install >/dev/null

if [[ ! -f "${SHAREDIR}/extension/vector.control" ]]; then
  echo "install-pgvector: make install finished but ${SHAREDIR}/extension/vector.control is missing" >&2
  exit 1
fi
log "installed pgvector $(grep -E '^default_version' "${SHAREDIR}/extension/vector.control" | tr -d "'" | awk '{print $3}') for PostgreSQL ${PG_VERSION}"
