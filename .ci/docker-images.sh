#!/usr/bin/env bash
# Builds reelgraph's worker and API images and runs them, on a machine that reaches no image
# registry, with no build step inside the daemon that installs or compiles anything:
#
# 1. Debian's docker.io and debootstrap (installed when missing and run as root);
# 2. a private dockerd (its own data root, socket and pid file under $REELGRAPH_DOCKER_STATE,
#    default /var/tmp/reelgraph-docker), storage driver overlay2 (vfs when overlay2 cannot start;
#    no iptables, no bridge) — when no daemon can start, ONE line says why and the script exits 0,
#    so that .ci/run passes the rest;
# 3. the base rootfs: `debootstrap --variant=minbase bookworm`, made once and cached OUTSIDE the
#    repo and the daemon under $REELGRAPH_ROOTFS_CACHE (default /var/tmp/reelgraph-rootfs);
# 4. the worker image, imported as ONE layer (`docker import`, no build step in the daemon):
#    the base, this machine's own `node` binary (reelgraph needs Node ≥ 20, package.json engines;
#    bookworm's nodejs is 18), the user `node` (uid 1000), and /app laid out as the final stage
#    of workers/Dockerfile: the host's build (dist/; run `npm run build` first) and its production
#    dependencies (the packages package-lock.json does not mark dev, as installed here, so native
#    addons stay built for this Node); the API image from api/Dockerfile on top of it, as users
#    build it. Everything is hard-linked and only read;
# 5. the worker container on a /pfs volume with --network none: `reelgraph worker train` on
#    synthetic ratings (/pfs/training/base/), then `reelgraph worker predict` on a request with
#    that model as the `models` input (model.rgm, serving.json);
# 6. the API container (--network none, MovieLens 100K mounted read-only) until /readyz answers
#    200, asked from inside the container.
# Every step prints its duration; the script stops the dockerd it started.
# workers/Dockerfile's own build stages (npm ci, tsc inside the daemon) need the npm registry from
# the daemon's network and are not run here.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(node -p "require('./package.json').version")
STATE=${REELGRAPH_DOCKER_STATE:-/var/tmp/reelgraph-docker}
CACHE=${REELGRAPH_ROOTFS_CACHE:-/var/tmp/reelgraph-rootfs}
DATASETS=${REELGRAPH_DATASETS:-$(cd .. && pwd)/shared/datasets}
T0=$(date +%s)
step() { echo "docker images: [$(($(date +%s) - T0)) s] $*"; }
skip() {
  echo "docker images: skipped: $*"
  exit 0
}
fail() {
  echo "docker images: $*"
  exit 1
}
# a copy made of hard links (read only from here on), or a plain copy across file systems
linkcopy() { cp -al "$@" 2>/dev/null || cp -a "$@"; }

# 1. tools
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || skip "needs ${missing[*]} and is not root to install them"
  mkdir -p "$(dirname "$STATE")"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    >"$STATE.apt.log" 2>&1 || skip "apt-get install ${missing[*]} failed (see $STATE.apt.log)"
fi
[ "$(id -u)" = 0 ] || skip "dockerd and debootstrap need root"
[ -f dist/cli/main.js ] && [ -f dist/workers/main.js ] || fail "no dist/: run npm run build first"

# 2. a private dockerd: overlay2, else vfs
mkdir -p "$STATE" "$CACHE"
SOCK="$STATE/docker.sock"
export DOCKER_HOST="unix://$SOCK"
DOCKERD=""
cleanup() {
  docker rm -f reelgraph-ci-api >/dev/null 2>&1 || true
  if [ -n "$DOCKERD" ]; then kill "$DOCKERD" 2>/dev/null && wait "$DOCKERD" 2>/dev/null || true; fi
  rm -rf "${WORK:-}" "${BASEDIR:-}"
}
trap cleanup EXIT
start_dockerd() {
  dockerd --storage-driver="$1" --iptables=false --ip6tables=false --bridge=none \
    --data-root "$STATE/data-$1" --exec-root "$STATE/exec" --pidfile "$STATE/docker.pid" \
    --host "$DOCKER_HOST" >"$STATE/dockerd-$1.log" 2>&1 &
  DOCKERD=$!
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$DOCKERD" 2>/dev/null || {
      DOCKERD=""
      return 1
    }
    sleep 0.5
  done
  kill "$DOCKERD" 2>/dev/null && wait "$DOCKERD" 2>/dev/null || true
  DOCKERD=""
  return 1
}
DRIVER=overlay2
if ! start_dockerd overlay2; then
  DRIVER=vfs
  start_dockerd vfs ||
    skip "dockerd could not start (overlay2: $(tail -n 1 "$STATE/dockerd-overlay2.log" | cut -c1-160); vfs: $(tail -n 1 "$STATE/dockerd-vfs.log" | cut -c1-160))"
fi
step "dockerd $(docker version --format '{{.Server.Version}}') up ($DRIVER, no bridge)"

# 3. the base rootfs: debootstrap once, cached outside the repo and the daemon
MINBASE="$CACHE/bookworm-minbase"
if [ ! -f "$MINBASE/.complete" ]; then
  rm -rf "$MINBASE.partial"
  debootstrap --variant=minbase bookworm "$MINBASE.partial" http://deb.debian.org/debian \
    >"$CACHE/debootstrap.log" 2>&1 || fail "debootstrap failed: $(tail -n 3 "$CACHE/debootstrap.log")"
  rm -rf "$MINBASE.partial"/var/cache/apt/archives/*.deb "$MINBASE.partial"/var/lib/apt/lists/*
  : >"$MINBASE.partial/etc/resolv.conf"
  touch "$MINBASE.partial/.complete"
  rm -rf "$MINBASE" && mv "$MINBASE.partial" "$MINBASE"
  step "debootstrap bookworm minbase into $MINBASE ($(du -sh "$MINBASE" | cut -f1))"
else
  step "debootstrap bookworm minbase cached in $MINBASE"
fi
NODE_BIN=$(command -v node)
NODE_VERSION=$(node --version)
case "$NODE_VERSION" in
  v2[0-9].* | v[3-9][0-9].*) ;;
  *) fail "this machine's node is $NODE_VERSION, not ≥ 20: reelgraph's images need Node ≥ 20" ;;
esac

# 4. the worker image's rootfs, imported as one layer: the base, this machine's node, the user
# node (uid 1000), and /app laid out as the final stage of workers/Dockerfile. Everything is
# hard-linked from the cache and the repo and only READ (tar): files that differ (etc/passwd,
# etc/group, etc/shadow) are fresh copies, never written through a link.
ROOTFS=$(mktemp -d "$STATE/rootfs.XXXXXX")
BASEDIR=$ROOTFS
linkcopy "$MINBASE/." "$ROOTFS/"
rm -f "$ROOTFS/.complete"
for f in passwd group shadow; do cp --remove-destination "$MINBASE/etc/$f" "$ROOTFS/etc/$f"; done
echo 'node:x:1000:' >>"$ROOTFS/etc/group"
echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$ROOTFS/etc/passwd"
echo 'node:!:19000::::::' >>"$ROOTFS/etc/shadow"
mkdir -p "$ROOTFS/home/node" && chown 1000:1000 "$ROOTFS/home/node"
cp "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
APP="$ROOTFS/app"
mkdir -p "$APP/node_modules" "$APP/workers/train" "$APP/workers/predict" "$APP/src/pachyderm/grpc"
# the production dependencies: the packages package-lock.json does not mark dev, as installed here
# (native addons built for this Node); top-level folders hard-linked whole
node -e '
  const fs = require("fs");
  const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
  for (const [k, v] of Object.entries(lock.packages)) {
    if (!k.startsWith("node_modules/") || v.dev || /\/node_modules\//.test(k.slice(13))) continue;
    if (fs.existsSync(k)) console.log(k.slice(13));
  }' >"$ROOTFS/prod-packages"
while read -r pkg; do
  mkdir -p "$APP/node_modules/$(dirname "$pkg")"
  linkcopy "node_modules/$pkg" "$APP/node_modules/$pkg"
done <"$ROOTFS/prod-packages"
rm "$ROOTFS/prod-packages"
cp package.json "$APP/"
linkcopy dist bin "$APP/"
cp workers/train/pipeline.json "$APP/workers/train/"
cp workers/predict/pipeline.json "$APP/workers/predict/"
linkcopy src/pachyderm/grpc/proto "$APP/src/pachyderm/grpc/"
ln -s /app/bin/reelgraph "$ROOTFS/usr/local/bin/reelgraph"
step "worker rootfs: $(du -sh --count-links "$ROOTFS" | cut -f1) ($(ls "$APP/node_modules" | wc -l) production node_modules entries)"
tar -C "$ROOTFS" -c . | docker import \
  --change 'LABEL org.opencontainers.image.title="reelgraph worker"' \
  --change 'LABEL org.opencontainers.image.licenses="MIT"' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_ENV=production' \
  --change 'WORKDIR /app' \
  --change 'USER node' \
  --change 'CMD ["reelgraph", "--help"]' - "reelgraph/worker:$VERSION" >/dev/null
rm -rf "$ROOTFS"
BASEDIR=""
step "imported reelgraph/worker:$VERSION (node $(docker run --rm --network none "reelgraph/worker:$VERSION" node --version), user $(docker run --rm --network none "reelgraph/worker:$VERSION" id -u))"
docker build --network none -q -f api/Dockerfile --build-arg WORKER_IMAGE="reelgraph/worker:$VERSION" \
  -t "reelgraph/api:$VERSION" api >/dev/null
step "built reelgraph/api:$VERSION (api/Dockerfile)"

# 5. the worker container on a /pfs volume, no network
WORK=$(mktemp -d "$STATE/pfs.XXXXXX")
mkdir -p "$WORK/train/pfs/training/base" "$WORK/train/pfs/out" "$WORK/predict/pfs/streaming" \
  "$WORK/predict/pfs/models" "$WORK/predict/pfs/out"
# 40 users × 30 movies, a deterministic pattern (rating = 1 + (u·m) mod 5)
for u in $(seq 1 40); do for m in $(seq 1 30); do
  echo "$u $m $((1 + (u * m) % 5)) 0"
done; done >"$WORK/train/pfs/training/base/synthetic.txt"
chown -R 1000:1000 "$WORK"
docker run --rm --network none -v "$WORK/train/pfs:/pfs" -e training=/pfs/training \
  -e training_COMMIT=aaaa -e PACH_DATUM_ID=d1 "reelgraph/worker:$VERSION" reelgraph worker train
for f in model.rgm metrics.json manifest.json; do
  [ -s "$WORK/train/pfs/out/$f" ] || fail "train wrote no /pfs/out/$f"
done
step "worker train: $(wc -c <"$WORK/train/pfs/out/model.rgm") bytes of model, $(head -c 120 "$WORK/train/pfs/out/metrics.json")"
# the serving model as the model publisher puts it into the `models` repo
cp "$WORK/train/pfs/out/model.rgm" "$WORK/predict/pfs/models/"
echo '{"version": "aaaa", "pinned": false, "reason": null}' >"$WORK/predict/pfs/models/serving.json"
printf '1 2\n3 4\nnobody 1\n' >"$WORK/predict/pfs/streaming/req-0001"
chown -R 1000:1000 "$WORK"
docker run --rm --network none -v "$WORK/predict/pfs:/pfs" -e streaming=/pfs/streaming/req-0001 \
  -e models=/pfs/models -e models_COMMIT=bbbb -e PACH_DATUM_ID=d2 \
  "reelgraph/worker:$VERSION" reelgraph worker predict
lines=$(grep -vc '^#' "$WORK/predict/pfs/out/req-0001" || true)
[ "$lines" = 3 ] || {
  cat "$WORK/predict/pfs/out/req-0001"
  fail "predict answered $lines of 3 requests"
}
step "worker predict: 3 answers in /pfs/out/req-0001"

# 6. the API container, no network, until /readyz is 200 (first start: MovieLens 100K, SVD)
[ -d "$DATASETS/ml-100k" ] || fail "MovieLens 100K not found in $DATASETS (REELGRAPH_DATASETS)"
docker run -d --name reelgraph-ci-api --network none -v "$DATASETS:/datasets:ro" \
  -e REELGRAPH_DATASETS=/datasets -e LOG_LEVEL=warn "reelgraph/api:$VERSION" >/dev/null
ready=""
for _ in $(seq 1 600); do
  if docker exec reelgraph-ci-api node -e \
    "fetch('http://127.0.0.1:4000/readyz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))" \
    2>/dev/null; then
    ready=yes
    break
  fi
  [ "$(docker inspect -f '{{.State.Running}}' reelgraph-ci-api)" = true ] || break
  sleep 1
done
[ -n "$ready" ] || {
  docker logs --tail 20 reelgraph-ci-api
  fail "the API container never answered /readyz 200"
}
step "API container: /readyz 200"
step "done"
