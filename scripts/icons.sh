#!/usr/bin/env bash
# Renders public/icon.svg (the Cinderblock mark) to the PNG icons with Debian's headless Chromium,
# and wraps the small PNGs in public/favicon.ico. Run after changing the mark: bash scripts/icons.sh
set -euo pipefail
cd "$(dirname "$0")/.."
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

render() { # size output
  cat >"$work/page.html" <<HTML
<!doctype html><html><head><style>html,body{margin:0;background:transparent;overflow:hidden}img{display:block;width:$1px;height:$1px}</style></head>
<body><img src="file://$PWD/public/icon.svg"></body></html>
HTML
  "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --default-background-color=00000000 --force-device-scale-factor=1 \
    --window-size="$1,$1" --screenshot="$2" "file://$work/page.html" >/dev/null 2>&1
}

for size in 16 32 48; do render "$size" "$work/$size.png"; done
render 180 public/apple-touch-icon.png
render 192 public/icon-192.png
render 512 public/icon-512.png

# An ICO file is a directory of images; each entry here is a PNG, as every current browser reads.
node - "$work" <<'JS'
const fs = require('node:fs');
const dir = process.argv[2];
const images = [16, 32, 48].map((size) => ({ size, png: fs.readFileSync(`${dir}/${size}.png`) }));
const header = Buffer.alloc(6 + 16 * images.length);
header.writeUInt16LE(0, 0); header.writeUInt16LE(1, 2); header.writeUInt16LE(images.length, 4);
let offset = header.length;
images.forEach(({ size, png }, i) => {
  const entry = 6 + 16 * i;
  header.writeUInt8(size, entry); header.writeUInt8(size, entry + 1); header.writeUInt8(0, entry + 2); header.writeUInt8(0, entry + 3);
  header.writeUInt16LE(1, entry + 4); header.writeUInt16LE(32, entry + 6);
  header.writeUInt32LE(png.length, entry + 8); header.writeUInt32LE(offset, entry + 12);
  offset += png.length;
});
fs.writeFileSync('public/favicon.ico', Buffer.concat([header, ...images.map((i) => i.png)]));
JS
echo "[icons] public/favicon.ico, public/apple-touch-icon.png, public/icon-192.png, public/icon-512.png"
