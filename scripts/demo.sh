#!/usr/bin/env bash
# The demo: builds git-train, makes a sample training repository, trains it
# locally (`git train local -- --epochs 3`), and shows the run's note.
# Everything it installs or builds stays in this checkout (build-demo/, demo/),
# except the Debian packages it needs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${GIT_TRAIN_BUILD_DIR:-}" ]; then
	"$root/scripts/install-deps.sh"
	GIT_TRAIN_BUILD_DIR="$root/build-demo"
	"$root/scripts/build.sh" "$GIT_TRAIN_BUILD_DIR"
fi
export PATH="$GIT_TRAIN_BUILD_DIR:$PATH"

demo=${GIT_TRAIN_DEMO_DIR:-$root/demo}
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"
git init -q -b main .
git config user.name >/dev/null || git config user.name "git-train demo"
git config user.email >/dev/null || git config user.email "demo@git-train.invalid"
cp "$root/examples/linear/train.py" .
printf 'outputs/\nmetrics.json\n' >.gitignore
git add train.py .gitignore
git commit -q -m "linear model: first try"

set -x
git train local -- --epochs 3
git log --notes=train -1
