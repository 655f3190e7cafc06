#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (with network).
# It installs Python >= 3.11 and the kit (with its pinned TensorFlow and Keras) into a virtual
# environment that the sandbox user `nobody` can read, bubblewrap where the image allows it, and
# checks (or fetches) the four Fashion-MNIST files. Built by `autograder gradescope-bundle`.
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"   # /autograder/source
VENV="${AUTOGRADER_VENV:-/opt/keras-exercise-autograder}"
export DEBIAN_FRONTEND=noninteractive

apt-get update -qq
apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null
# The grader tries bubblewrap first and falls back (and says so in every report) when the
# container does not allow its namespaces, which is usual on Gradescope.
apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null ||
  echo "note: bubblewrap could not be installed; grading will use resource limits only"

python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
    "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    python="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$python" ]; then
  # Ubuntu 22.04 (Gradescope's default image) has Python 3.10; Keras 3.15 needs 3.11.
  apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv >/dev/null
  python="$(command -v python3.11)"
fi
version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
apt-get install -y -qq --no-install-recommends "python${version}-venv" >/dev/null 2>&1 || true
echo "Python: $python ($version)"

"$python" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "$SOURCE/kit"
# The sandboxed child runs as nobody: it must be able to run this interpreter.
chmod -R a+rX "$VENV"

if [ -f "$SOURCE/data/SHA256SUMS" ]; then
  (cd "$SOURCE/data" && sha256sum --check --quiet SHA256SUMS)
  echo "Fashion-MNIST: the bundled files are the official ones"
else
  "$VENV/bin/python" -m autograder fetch-data "$SOURCE/data"
fi
chmod -R a+rX "$SOURCE"

# Smoke test: the kit imports and knows its rubric.
"$VENV/bin/python" -m autograder rubric >/dev/null
echo "The Fashion-MNIST autograder is installed in $VENV"
