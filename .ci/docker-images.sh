#!/usr/bin/env bash
# Builds reelgraph's images and runs them, on a machine that reaches no image registry:
#
# 1. Debian's docker.io and debootstrap (installed when missing and run as root);
# 2. a private dockerd (vfs storage, no iptables, no bridge; its own data root, socket and pid
#    file under $REELGRAPH_DOCKER_STATE, default /var/tmp/reelgraph-docker) — when it cannot
#    start, ONE line says why and the script exits 0, so that .ci/run passes the rest;
# 3. a Debian bookworm base made from Debian packages (debootstrap, then apt: npm, a C++
#    toolchain, the user `node` uid 1000), imported as local/reelgraph-base:bookworm, and Node 20
#    on it from the host's nodejs package (bookworm's own is 18) — both cached in the data root,
#    rebuilt only when the recipe or the host's Node version changes;
# 4. the worker image (workers/Dockerfile, NODE_IMAGE = that base) and the API image
#    (api/Dockerfile), built with the host's network for npm;
# 5. the worker container on a /pfs volume with --network none: `reelgraph worker train` on
#    synthetic ratings, then `reelgraph worker predict` on a request with that model;
# 6. the API container (--network none, MovieLens 100K mounted read-only) until /readyz answers
#    200, asked from inside the container.
# Every step prints its duration; the script stops the dockerd it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VERSION=$(node -p "require('./package.json').version")
STATE=${REELGRAPH_DOCKER_STATE:-/var/tmp/reelgraph-docker}
DATASETS=${REELGRAPH_DATASETS:-$(cd .. && pwd)/shared/datasets}
BASE=local/reelgraph-base:bookworm
BASE_PACKAGES=nodejs,npm,libnode-dev,node-gyp,python3,make,g++,ca-certificates,passwd
T0=$(date +%s)
step() { echo "docker images: [$(($(date +%s) - T0)) s] $*"; }
skip() {
  echo "docker images: skipped: $*"
  exit 0
}

# 1. tools
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || skip "needs ${missing[*]} and is not root to install them"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    >"$STATE.apt.log" 2>&1 || skip "apt-get install ${missing[*]} failed (see $STATE.apt.log)"
fi
[ "$(id -u)" = 0 ] || skip "dockerd and debootstrap need root"

# 2. a private dockerd
mkdir -p "$STATE"
SOCK="$STATE/docker.sock"
export DOCKER_HOST="unix://$SOCK"
dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
  --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$STATE/docker.pid" \
  --host "$DOCKER_HOST" >"$STATE/dockerd.log" 2>&1 &
DOCKERD=$!
cleanup() {
  docker rm -f reelgraph-ci-api >/dev/null 2>&1 || true
  kill "$DOCKERD" 2>/dev/null && wait "$DOCKERD" 2>/dev/null || true
  rm -rf "${WORK:-}"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  docker info >/dev/null 2>&1 && break
  kill -0 "$DOCKERD" 2>/dev/null || skip "dockerd could not start: $(tail -n 1 "$STATE/dockerd.log")"
  sleep 0.5
done
docker info >/dev/null 2>&1 || skip "dockerd did not answer within 60 s: $(tail -n 1 "$STATE/dockerd.log")"
step "dockerd $(docker version --format '{{.Server.Version}}') up (vfs, no bridge)"

# 3. the Debian base, cached under a label naming its recipe
RECIPE="bookworm minbase $BASE_PACKAGES uid1000"
if [ "$(docker image inspect -f '{{index .Config.Labels "recipe"}}' "$BASE" 2>/dev/null)" != "$RECIPE" ]; then
  ROOTFS=$(mktemp -d "$STATE/rootfs.XXXXXX")
  # debootstrap only the minimal system; apt inside it resolves npm's many dependencies (debootstrap's
  # own resolver does not)
  debootstrap --variant=minbase bookworm "$ROOTFS" http://deb.debian.org/debian \
    >"$STATE/debootstrap.log" 2>&1 ||
    {
      echo "docker images: debootstrap failed: $(tail -n 3 "$STATE/debootstrap.log")"
      exit 1
    }
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  mount -t proc proc "$ROOTFS/proc"
  chroot "$ROOTFS" sh -c "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
    --no-install-recommends $(echo "$BASE_PACKAGES" | tr , ' ')" >>"$STATE/debootstrap.log" 2>&1 ||
    {
      umount "$ROOTFS/proc"
      echo "docker images: apt-get in the base failed: $(tail -n 3 "$STATE/debootstrap.log")"
      exit 1
    }
  umount "$ROOTFS/proc"
  : >"$ROOTFS/etc/resolv.conf"
  chroot "$ROOTFS" useradd --uid 1000 --user-group --create-home --shell /bin/sh node
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  tar -C "$ROOTFS" -c . | docker import \
    --change "LABEL recipe=\"$RECIPE\"" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV npm_config_nodedir=/usr' \
    --change 'CMD ["node"]' - "$BASE" >/dev/null
  rm -rf "$ROOTFS"
  step "base $BASE made with debootstrap ($(docker run --rm --network none "$BASE" node --version))"
else
  step "base $BASE cached"
fi

# 3b. Node ≥ 20 on it: bookworm's nodejs is 18, reelgraph needs 20 (package.json engines,
# AbortSignal.any…). The host's own nodejs package (e.g. NodeSource's, with its npm and headers)
# is copied onto the base; node-gyp then builds native addons against its headers (nodedir /usr).
NODE_BASE=local/reelgraph-node:bookworm
HOST_NODE=$(dpkg-query -W -f '${Version}' nodejs 2>/dev/null || true)
NODE_RECIPE="$HOST_NODE with npm dir"
case "$HOST_NODE" in
  2[0-9].* | [3-9][0-9].*) ;;
  *)
    echo "docker images: the host's nodejs package is '${HOST_NODE:-missing}', not ≥ 20: cannot give the base Node 20"
    exit 1
    ;;
esac
if [ "$(docker image inspect -f '{{index .Config.Labels "node"}}' "$NODE_BASE" 2>/dev/null)" != "$NODE_RECIPE" ]; then
  CTX=$(mktemp -d "$STATE/node.XXXXXX")
  mkdir -p "$CTX/tree"
  # the package's files, and its npm directory whole (npm may have updated itself since)
  {
    dpkg-query -L nodejs | while read -r f; do [ -f "$f" ] || [ -L "$f" ] && echo "${f#/}"; done
    echo usr/lib/node_modules/npm
  } | tar -C / -cf - -T - | tar -C "$CTX/tree" -xf -
  printf 'FROM %s\nCOPY tree/ /\nLABEL node="%s"\n' "$BASE" "$NODE_RECIPE" >"$CTX/Dockerfile"
  docker build -q -t "$NODE_BASE" "$CTX" >/dev/null
  rm -rf "$CTX"
fi
step "base $NODE_BASE: node $(docker run --rm --network none "$NODE_BASE" node --version), npm $(docker run --rm --network none "$NODE_BASE" npm --version)"

# 4. the images
docker build --network host -q -f workers/Dockerfile --build-arg NODE_IMAGE="$NODE_BASE" \
  -t "reelgraph/worker:$VERSION" . >/dev/null
step "built reelgraph/worker:$VERSION"
docker build --network host -q -f api/Dockerfile --build-arg WORKER_IMAGE="reelgraph/worker:$VERSION" \
  -t "reelgraph/api:$VERSION" . >/dev/null
step "built reelgraph/api:$VERSION"

# 5. the worker container on a /pfs volume, no network
WORK=$(mktemp -d "$STATE/pfs.XXXXXX")
mkdir -p "$WORK/train/pfs/training" "$WORK/train/pfs/out" "$WORK/predict/pfs/streaming" \
  "$WORK/predict/pfs/train" "$WORK/predict/pfs/out"
# 40 users × 30 movies, a deterministic pattern (rating = 1 + (u·m) mod 5)
for u in $(seq 1 40); do for m in $(seq 1 30); do
  echo "$u $m $((1 + (u * m) % 5)) 0"
done; done >"$WORK/train/pfs/training/ratings.txt"
chown -R 1000:1000 "$WORK"
docker run --rm --network none -v "$WORK/train/pfs:/pfs" -e training=/pfs/training \
  -e training_COMMIT=aaaa -e PACH_DATUM_ID=d1 "reelgraph/worker:$VERSION" reelgraph worker train
for f in model.rgm metrics.json manifest.json; do
  [ -s "$WORK/train/pfs/out/$f" ] || {
    echo "docker images: train wrote no /pfs/out/$f"
    exit 1
  }
done
step "worker train: $(wc -c <"$WORK/train/pfs/out/model.rgm") bytes of model, $(cat "$WORK/train/pfs/out/metrics.json" | head -c 120)"
cp "$WORK/train/pfs/out/model.rgm" "$WORK/predict/pfs/train/"
printf '1 2\n3 4\nnobody 1\n' >"$WORK/predict/pfs/streaming/req-0001"
chown -R 1000:1000 "$WORK"
docker run --rm --network none -v "$WORK/predict/pfs:/pfs" -e streaming=/pfs/streaming/req-0001 \
  -e train=/pfs/train -e train_COMMIT=bbbb -e PACH_DATUM_ID=d2 \
  "reelgraph/worker:$VERSION" reelgraph worker predict
lines=$(grep -vc '^#' "$WORK/predict/pfs/out/req-0001" || true)
[ "$lines" = 3 ] || {
  echo "docker images: predict answered $lines of 3 requests"
  cat "$WORK/predict/pfs/out/req-0001"
  exit 1
}
step "worker predict: 3 answers in /pfs/out/req-0001"

# 6. the API container, no network, until /readyz is 200 (first start: MovieLens 100K, SVD)
[ -d "$DATASETS/ml-100k" ] || {
  echo "docker images: MovieLens 100K not found in $DATASETS (REELGRAPH_DATASETS)"
  exit 1
}
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
  echo "docker images: the API container never answered /readyz 200:"
  docker logs --tail 20 reelgraph-ci-api
  exit 1
}
step "API container: /readyz 200"
step "done"
