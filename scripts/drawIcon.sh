#!/usr/bin/env bash
# Draws media/icon.png (256x256), the extension's icon: lines of code, then ghost text (dim) after
# a cursor, on an indigo tile. Needs ImageMagick 6 (Debian: apt-get install imagemagick; CONVERT=/usr/bin/convert
# picks it where another `convert` comes first on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
"${CONVERT:-convert}" -size 256x256 xc:none \
  -fill '#312e81' -draw 'roundrectangle 8,8 247,247 40,40' \
  -fill '#e0e7ff' -draw 'roundrectangle 44,52 148,68 8,8' \
  -fill '#e0e7ff' -draw 'roundrectangle 72,88 196,104 8,8' \
  -fill '#e0e7ff' -draw 'roundrectangle 72,124 120,140 8,8' \
  -fill '#fbbf24' -draw 'rectangle 128,118 134,146' \
  -fill '#6366f1' -draw 'roundrectangle 142,124 212,140 8,8' \
  -fill '#6366f1' -draw 'roundrectangle 72,160 176,176 8,8' \
  -fill '#6366f1' -draw 'roundrectangle 44,196 120,212 8,8' \
  -depth 8 -strip media/icon.png
