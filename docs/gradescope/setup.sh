#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu).
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv >/dev/null
python3 -m venv /opt/stepsolver
/opt/stepsolver/bin/pip install -q /autograder/source/stepsolver   # or: pip install stepsolver
ln -sf /opt/stepsolver/bin/stepsolver /usr/local/bin/stepsolver
