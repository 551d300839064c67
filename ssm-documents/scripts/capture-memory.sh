#!/bin/bash
# custody-capture-memory: stream this host's memory, in LiME format, into S3 multipart parts.
#
# Nothing touches the host's disk: the LiME module (or AVML) and one part at a time live in a
# tmpfs; the image flows kernel -> loopback TCP (LiME) or pipe (AVML) -> tee -> sha256sum and
# -> curl PUT per presigned part URL. The module is unloaded at the end, also on failure.
# Output: JSON on stdout (method, sizes, hash, timings, the report's parts); the full report,
# with every image part's ETag and SHA-256, is uploaded as output "report".

# --- custody common: begin ---------------------------------------------------------------------
# This block is copied verbatim into every script under ssm-documents/scripts/ (each script must be
# standalone, because SSM embeds it as the document's shell text); a test checks that every copy
# equals ssm-documents/scripts/common.sh. Edit it there, then run ssm-documents/render.py.
#
# Contract of every custody script:
# - parameters arrive ONLY as environment variables SSM_<Name> (document interpolationType ENV_VAR),
#   and each one is checked again here against the same pattern as the document's allowedPattern;
# - every URL arrives in the manifest (a file fetched by a presigned GET), never on a command line:
#   curl reads it from its config on stdin, so it is not in argv either;
# - anything staged is staged in a fresh directory on a tmpfs (/dev/shm) that is removed on exit;
# - success prints exactly one JSON object on stdout and exits 0; any failure prints
#   "custody: <reason>" on stderr and exits non-zero (2: refused input, 1: anything else).
set -Eeuo pipefail
umask 077
export LC_ALL=C

WORK=""
PART_SIZE=0
declare -A KV=() GET_URL=() GET_SHA=() GOT_SHA=() PART_URL=()

fail() {
  printf 'custody: %s\n' "$*" >&2
  exit 1
}

refuse() {
  printf 'custody: refused: %s\n' "$*" >&2
  exit 2
}

# param NAME ERE: prints the value of SSM_NAME after checking it against ERE (anchored by caller)
# and against the documents' maxChars (8192).
param() {
  local var="SSM_$1"
  [[ -n "${!var+set}" ]] ||
    refuse "parameter $1 missing: \$$var is unset (SSM Agent older than 3.3.2746.0, or the document lacks interpolationType ENV_VAR)"
  local value="${!var}"
  ((${#value} <= 8192)) || refuse "parameter $1 is longer than 8192 characters"
  [[ "$value" =~ $2 ]] || refuse "parameter $1 does not match its allowed pattern"
  printf '%s' "$value"
}

# Patterns shared by several documents. The documents' allowedPattern strings are the same text.
# No bounded repetitions ({1,253}) on long inputs: glibc's regex engine expands them into huge
# automata (seconds per match); lengths are checked separately.
RE_CASE_ID='^case-[0-7][0-9A-HJKMNP-TV-Z]{25}$'
RE_INSTANCE_ID='^i-[0-9a-f]{8}([0-9a-f]{9})?$'
RE_URL='^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~%/+=-]*[?][A-Za-z0-9._~%/+=&-]+$'
RE_SHA256='^[0-9a-f]+$' # and 64 long: see is_sha256
RE_NAME='^[A-Za-z0-9._:+-]+$' # and at most 200 long: see is_name

# json_str S: prints S as a JSON string literal. Bytes are taken one by one (LC_ALL=C): quotes,
# backslashes, control bytes and bytes >= 0x80 are escaped, so hostile text (a pod's hostname, a
# kernel string) can never break the JSON, and non-UTF-8 input still yields valid JSON.
json_str() {
  local s="$1" out="" c i code
  if [[ "$s" =~ ^[A-Za-z0-9\ ._:/@+=,-]*$ ]]; then
    printf '"%s"' "$s"
    return
  fi
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
    '"') out+='\"' ;;
    \\) out+="\\\\" ;;
    *)
      printf -v code '%d' "'$c"
      if ((code < 32 || code >= 127)); then
        printf -v c '\\u%04x' "$code"
      fi
      out+="$c"
      ;;
    esac
  done
  printf '"%s"' "$out"
}

is_sha256() { ((${#1} == 64)) && [[ "$1" =~ $RE_SHA256 ]]; }
is_name() { ((${#1} <= 200)) && [[ "$1" =~ $RE_NAME ]]; }
is_url() { ((${#1} <= 8192)) && [[ "$1" =~ $RE_URL ]]; }

now_iso() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
now_ms() { date +%s%3N; }

# Cleanup: scripts may define custody_cleanup; it runs first, then the tmpfs work dir goes.
# shellcheck disable=SC2329 # invoked by on_exit; scripts may redefine it
custody_cleanup() { :; }
on_exit() {
  local rc=$?
  trap - EXIT
  custody_cleanup || rc=1
  if [[ -n "$WORK" && -d "$WORK" ]]; then rm -rf -- "$WORK"; fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# make_workdir: a private directory on a tmpfs. Refuses to run if /dev/shm is not a tmpfs, so
# nothing is ever staged on the host's disk; TMPDIR points there too (here-documents, mktemp).
make_workdir() {
  [[ "$(stat -f -c %T /dev/shm 2>/dev/null)" == tmpfs ]] ||
    fail "/dev/shm is not a tmpfs: refusing to stage anything where it could reach a disk"
  WORK="$(mktemp -d /dev/shm/custody.XXXXXXXXXX)"
  export TMPDIR="$WORK"
}

# curl_url URL [curl args...]: curl with the URL given in its config on stdin (not in argv),
# HTTPS only, no redirects, bounded retries on transient errors.
curl_url() {
  local url="$1"
  shift
  is_url "$url" || fail "a URL in the manifest is malformed"
  printf 'url = "%s"\n' "$url" |
    curl --config - --proto =https --fail --silent --show-error \
      --connect-timeout 20 --retry 4 --retry-connrefused "$@"
}

sha256_of() {
  local h
  h="$(sha256sum <"$1")"
  printf '%s' "${h%% *}"
}

# get NAME DEST: downloads the manifest's object NAME, re-hashes what it downloaded and checks the
# SHA-256 against the manifest's (for evidence: the digest on record); the digest it computed is
# kept in GOT_SHA[NAME] so the document can report it.
get() {
  local name="$1" dest="$2" got
  [[ -n "${GET_URL[$name]-}" ]] || fail "the manifest has no object named $(json_str "$name")"
  curl_url "${GET_URL[$name]}" --output "$dest" || fail "download of $(json_str "$name") failed"
  got="$(sha256_of "$dest")"
  is_sha256 "$got" || fail "hashing the download of $(json_str "$name") failed"
  [[ "$got" == "${GET_SHA[$name]}" ]] ||
    fail "$(json_str "$name") has SHA-256 $got, the manifest says ${GET_SHA[$name]}"
  # shellcheck disable=SC2034 # read by the documents that report the re-hash (analyse-memory)
  GOT_SHA[$name]="$got"
}

# load_manifest URL DOCUMENT CASE INSTANCE: fetches and parses the manifest (format in README.md),
# checking it was made for this document, case and instance. Unknown lines are refused.
load_manifest() {
  local url="$1" doc="$2" case_id="$3" instance_id="$4" file="$WORK/manifest" first kind a b c d n=0
  curl_url "$url" --output "$file" || fail "manifest download failed"
  IFS= read -r first <"$file" || fail "manifest is empty"
  [[ "$first" == "custody-manifest 1" ]] || fail "manifest does not start with 'custody-manifest 1'"
  while IFS=' ' read -r kind a b c d; do
    n=$((n + 1))
    ((n > 1)) || continue
    case "$kind" in
    '' | '#'*) continue ;;
    get)
      if ! { [[ -z "$d" ]] && is_name "$a" && is_sha256 "$b" && is_url "$c"; }; then
        fail "manifest line $n: malformed get line"
      fi
      GET_URL[$a]="$c"
      GET_SHA[$a]="$b"
      ;;
    part)
      if ! { [[ -z "$d" && "$b" =~ ^[1-9][0-9]*$ ]] && ((${#b} <= 5)) && is_name "$a" && is_url "$c"; }; then
        fail "manifest line $n: malformed part line"
      fi
      ((b <= 10000)) || fail "manifest line $n: S3 allows at most 10000 parts"
      PART_URL[$a:$b]="$c"
      ;;
    *=*)
      [[ -z "$a" && ${#kind} -le 256 && "$kind" =~ ^([a-z_]+)=([A-Za-z0-9._:/+-]*)$ ]] ||
        fail "manifest line $n: malformed key=value line"
      KV[${BASH_REMATCH[1]}]="${BASH_REMATCH[2]}"
      ;;
    *) fail "manifest line $n: unknown line kind" ;;
    esac
  done <"$file"
  [[ "${KV[document]-}" == "$doc" ]] || fail "manifest was made for another document"
  [[ "${KV[case_id]-}" == "$case_id" ]] || fail "manifest was made for another case"
  [[ "${KV[instance_id]-}" == "$instance_id" ]] || fail "manifest was made for another instance"
  [[ "${KV[part_size]-}" =~ ^[1-9][0-9]{6,9}$ ]] || fail "manifest has no valid part_size"
  PART_SIZE="${KV[part_size]}"
  ((PART_SIZE >= 5242880 && PART_SIZE <= 1073741824)) ||
    fail "part_size must be between 5 MiB (the S3 minimum) and 1 GiB (one part is held in RAM)"
}

# md5_b64 FILE: base64 of the binary MD5, for Content-MD5 (S3 checks the body against it, and
# Object Lock buckets require it). No openssl/xxd needed.
md5_b64() {
  local hex esc
  hex="$(md5sum <"$1")"
  hex="${hex%% *}"
  esc="$(printf '%s' "$hex" | sed 's/../\\x&/g')"
  printf '%b' "$esc" | base64
}

# put_part FILE URL: PUTs FILE to a presigned part URL; prints the ETag S3 returned (unquoted).
# Only Content-MD5 goes with it (S3 refuses a body that does not match it: BadDigest), never
# x-amz-checksum-sha256: the step presigns every part before its bytes exist, so that header cannot
# be among the URL's signed headers, and S3 refuses unsigned x-amz-* headers on a presigned request
# (README.md, "Per-part integrity"). The upload has no checksum algorithm for the same reason.
put_part() {
  local file="$1" url="$2" headers="$WORK/put.headers" etag
  : >"$headers"
  curl_url "$url" --upload-file "$file" --header "Content-MD5: $(md5_b64 "$file")" \
    --header 'Expect:' --dump-header "$headers" --output /dev/null ||
    fail "upload of a part failed"
  etag="$(sed -n 's/^[Ee][Tt][Aa][Gg]:[[:space:]]*"\{0,1\}\([^"[:space:]]*\)"\{0,1\}[[:space:]]*$/\1/p' "$headers" | tail -n 1)"
  [[ "$etag" =~ ^[A-Za-z0-9+/=_-]{1,128}$ ]] || fail "S3 returned no usable ETag for a part"
  printf '%s' "$etag"
}

# upload_parts NAME: reads stdin and PUTs it, PART_SIZE bytes at a time (one part at a time in the
# tmpfs), to the manifest's part URLs for NAME. Each part's SHA-256 is taken from the very file in
# the tmpfs that is then PUT (nothing is read again from the host's disk). Records
# "n bytes etag sha256" lines in $WORK/NAME.parts.
upload_parts() {
  local name="$1" part="$WORK/$1.part" list="$WORK/$1.parts" n=0 size url etag sha
  : >"$list"
  while :; do
    n=$((n + 1))
    head -c "$PART_SIZE" >"$part"
    size="$(stat -c %s "$part")"
    if ((size == 0)); then
      ((n > 1)) || fail "output $name is empty"
      break
    fi
    url="${PART_URL[$name:$n]-}"
    [[ -n "$url" ]] || fail "output $name is larger than the $((n - 1)) parts the manifest presigned"
    sha="$(sha256_of "$part")"
    is_sha256 "$sha" || fail "hashing part $n of output $name failed"
    etag="$(put_part "$part" "$url")"
    printf '%d %d %s %s\n' "$n" "$size" "$etag" "$sha" >>"$list"
    ((size == PART_SIZE)) || break
  done
  rm -f -- "$part"
}

# ship NAME: stdin -> S3 parts of output NAME, with the SHA-256 of the whole stream computed on
# the way (tee into a FIFO read by sha256sum), into $WORK/NAME.sha256.
ship() {
  local name="$1" fifo="$WORK/$1.fifo" hpid
  mkfifo "$fifo"
  sha256sum <"$fifo" >"$WORK/$name.sha256" &
  hpid=$!
  tee "$fifo" | upload_parts "$name"
  wait "$hpid" || fail "hashing output $name failed"
}

# shipped_json NAME: {"bytes":N,"sha256":"...","parts":[{"part":1,"bytes":N,"etag":"...",
# "sha256":"<hex of the part>"},...]}
shipped_json() {
  local name="$1" n size etag sha total=0 sep="" parts="" hash
  while read -r n size etag sha; do
    total=$((total + size))
    parts+="$sep{\"part\":$n,\"bytes\":$size,\"etag\":$(json_str "$etag"),\"sha256\":\"$sha\"}"
    sep=","
  done <"$WORK/$name.parts"
  hash="$(cat "$WORK/$name.sha256")"
  printf '{"bytes":%d,"sha256":"%s","parts":[%s]}' "$total" "${hash%% *}" "$parts"
}
# shipped_bytes NAME: total bytes uploaded for output NAME.
shipped_bytes() {
  local n size etag sha total=0
  while read -r n size etag sha; do total=$((total + size)); done <"$WORK/$1.parts"
  printf '%d' "$total"
}
# --- custody common: end -----------------------------------------------------------------------

CASE_ID="$(param CaseId "$RE_CASE_ID")"
INSTANCE_ID="$(param InstanceId "$RE_INSTANCE_ID")"
MANIFEST_URL="$(param ManifestUrl "$RE_URL")"

LIME_LOADED=0
INSMOD_PID=""

lime_loaded() { grep -q '^lime ' /proc/modules 2>/dev/null; }

custody_cleanup() {
  local rc=0
  if [[ -n "$INSMOD_PID" ]]; then
    kill "$INSMOD_PID" 2>/dev/null || true
    wait "$INSMOD_PID" 2>/dev/null || true
    INSMOD_PID=""
  fi
  if ((LIME_LOADED)); then
    if rmmod lime; then
      LIME_LOADED=0
    else
      printf 'custody: could not unload the lime module\n' >&2
      rc=1
    fi
  fi
  return "$rc"
}

# listening PORT: is anything listening on 127.0.0.1:PORT (or any address) right now?
listening() {
  local hex
  printf -v hex '%04X' "$1"
  grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# free_port: a random high port nobody listens on, so LiME cannot be impersonated by a listener
# the attacker left on a well-known port (we also check LiME's magic on the first bytes).
free_port() {
  local i p
  for ((i = 0; i < 20; i++)); do
    p=$((20000 + RANDOM % 40000))
    if ! listening "$p"; then
      printf '%d' "$p"
      return
    fi
  done
  fail "found no free loopback port for LiME"
}

# check_magic: passes stdin through; fails unless it starts with LiME's header magic "EMiL".
check_magic() {
  local magic
  magic="$(head -c 4)"
  [[ "$magic" == "EMiL" ]] || fail "the memory stream does not start with a LiME header"
  printf '%s' "$magic"
  cat
}

make_workdir
load_manifest "$MANIFEST_URL" capture-memory "$CASE_ID" "$INSTANCE_ID"
[[ -n "${PART_URL[report:1]-}" ]] || fail "the manifest has no part for the report"

KERNEL_RELEASE="$(uname -r)"
is_name "$KERNEL_RELEASE" || fail "uname -r returned an unexpected kernel release"
STARTED_AT="$(now_iso)"
T0="$(now_ms)"

if [[ -n "${GET_URL[lime:$KERNEL_RELEASE]-}" ]]; then
  METHOD=lime
  TOOL="$WORK/lime.ko"
  get "lime:$KERNEL_RELEASE" "$TOOL"
  TOOL_SHA="${GET_SHA[lime:$KERNEL_RELEASE]}"
  ! lime_loaded || fail "a lime module is already loaded: another capture may be running"
elif [[ -n "${GET_URL[avml]-}" ]]; then
  METHOD=avml
  TOOL="$WORK/avml"
  get avml "$TOOL"
  TOOL_SHA="${GET_SHA[avml]}"
  chmod 700 "$TOOL"
else
  fail "no LiME module for kernel $(json_str "$KERNEL_RELEASE") and no AVML in the manifest"
fi
T_TOOL="$(now_ms)"

if [[ "$METHOD" == lime ]]; then
  PORT="$(free_port)"
  LIME_LOADED=1
  insmod "$TOOL" "path=tcp:$PORT format=lime localhostonly=1" &
  INSMOD_PID=$!
  waited=0
  until listening "$PORT"; do
    kill -0 "$INSMOD_PID" 2>/dev/null || {
      wait "$INSMOD_PID" || true
      INSMOD_PID=""
      lime_loaded || LIME_LOADED=0
      fail "insmod of the LiME module failed before LiME listened"
    }
    ((waited < 600)) || fail "LiME did not listen on port $PORT within 60 s"
    waited=$((waited + 1))
    sleep 0.1
  done
  exec 3</dev/tcp/127.0.0.1/"$PORT" || fail "could not connect to LiME on port $PORT"
  check_magic <&3 | ship image
  exec 3<&-
  wait "$INSMOD_PID" || {
    INSMOD_PID=""
    fail "insmod reported failure: the image may be incomplete"
  }
  INSMOD_PID=""
  rmmod lime || fail "could not unload the lime module after the capture"
  LIME_LOADED=0
else
  avml_args=()
  if "$TOOL" --help 2>/dev/null | grep -q '^ *acquire'; then avml_args=(acquire); fi
  "$TOOL" "${avml_args[@]}" /dev/stdout | check_magic | ship image
fi
T_STREAM="$(now_ms)"

IMAGE_JSON="$(shipped_json image)"
summary() {
  printf '{"document":"custody-capture-memory","format":1,"case_id":"%s","instance_id":"%s",' \
    "$CASE_ID" "$INSTANCE_ID"
  printf '"method":"%s","kernel_release":%s,"tool_sha256":"%s","part_size":%d,' \
    "$METHOD" "$(json_str "$KERNEL_RELEASE")" "$TOOL_SHA" "$PART_SIZE"
  printf '"started_at":"%s","finished_at":"%s","tool_fetch_ms":%d,"stream_ms":%d,' \
    "$STARTED_AT" "$(now_iso)" "$((T_TOOL - T0))" "$((T_STREAM - T_TOOL))"
}

{
  summary
  printf '"image":%s}\n' "$IMAGE_JSON"
} | ship report

IMAGE_BYTES="$(shipped_bytes image)"
IMAGE_SHA="$(cat "$WORK/image.sha256")"
IMAGE_PARTS="$(wc -l <"$WORK/image.parts")"
summary
printf '"image":{"bytes":%d,"sha256":"%s","part_count":%d},"report":%s}\n' \
  "$IMAGE_BYTES" "${IMAGE_SHA%% *}" "$IMAGE_PARTS" "$(shipped_json report)"
