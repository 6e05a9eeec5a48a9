#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# spdx.sh - every source file of scimd starts with its SPDX licence line.
#
#   sh tools/spdx.sh          list the files without one (exit 1 if any)
#   sh tools/spdx.sh --fix    add the line where it is missing
#
# Comment syntax by extension; a #! line stays first.  Vendored third-party
# files (none today) keep their own licence and are listed in NOTICE.
set -eu
cd "$(dirname "$0")/.."
fix=${1:-}
tag='SPDX-License-Identifier: Apache-2.0'
missing=0
for f in $(git ls-files '*.c' '*.h' '*.mjs' '*.js' '*.sh' '*.sql' '*.lua' '*.css' '*.html' \
        'Makefile' '.ci/run' | grep -v '/node_modules/'); do
    head -n 3 "$f" | grep -q "$tag" && continue
    case $f in
    *.c | *.h | *.css) line="/* $tag */" ;;
    *.mjs | *.js) line="// $tag" ;;
    *.sql | *.lua) line="-- $tag" ;;
    *.html) line="<!-- $tag -->" ;;
    *) line="# $tag" ;;
    esac
    if [ "$fix" != --fix ]; then
        echo "$f: no '$tag' line at the top" >&2
        missing=1
        continue
    fi
    tmp=$f.spdx.$$
    if head -n 1 "$f" | grep -q '^#!'; then
        { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } >"$tmp"
    elif [ "${f##*.}" = html ] && head -n 1 "$f" | grep -qi '^<!doctype'; then
        { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } >"$tmp"
    else
        { echo "$line"; cat "$f"; } >"$tmp"
    fi
    chmod --reference="$f" "$tmp"
    mv "$tmp" "$f"
done
exit $missing
