#!/usr/bin/env bash
# Fetches Fashion-MNIST (Zalando Research, MIT licence) from Debian's package dataset-fashion-mnist
# into the git-ignored .cache/fashion-mnist/ without installing it (apt-get download + dpkg-deb -x).
# Usage (from the repository root): bash scripts/fetch-fashion-mnist.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/fashion-mnist
if [ -f "$dest/train-images-idx3-ubyte.gz" ] && [ -f "$dest/t10k-labels-idx1-ubyte.gz" ]; then
  echo "Fashion-MNIST already in $dest"
  exit 0
fi
src=/usr/share/datasets/fashion-mnist
mkdir -p "$dest"
if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && { apt-get download dataset-fashion-mnist >/dev/null 2>&1 || { apt-get update -qq && apt-get download dataset-fashion-mnist >/dev/null; }; })
  dpkg-deb -x "$tmp"/dataset-fashion-mnist_*.deb "$tmp/root"
  src="$tmp/root/usr/share/datasets/fashion-mnist"
fi
cp "$src"/*-ubyte.gz "$dest/"
echo "Fashion-MNIST copied to $dest"
