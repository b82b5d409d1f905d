#!/usr/bin/env bash
# Adds LocalWork Hero to your applications menu (this user only). Run it from the app folder:
#   ./install-desktop-entry.sh            install
#   ./install-desktop-entry.sh --remove   remove the menu entry and icon again
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
entry="$data/applications/localwork-hero.desktop"
icon="$data/icons/hicolor/256x256/apps/localwork-hero.png"

if [ "${1:-}" = "--remove" ]; then
  rm -f "$entry" "$icon"
  echo "Removed LocalWork Hero from the applications menu."
  exit 0
fi
mkdir -p "$(dirname "$entry")" "$(dirname "$icon")"
cp "$here/localwork-hero.png" "$icon"
cat > "$entry" <<DESKTOP
[Desktop Entry]
Type=Application
Name=LocalWork Hero
Comment=A private assistant that runs open models on this computer
Exec="$here/localwork-hero"
Icon=localwork-hero
Terminal=false
Categories=Utility;Office;
StartupWMClass=localwork-hero
DESKTOP
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
echo "LocalWork Hero is now in your applications menu ($entry)."
