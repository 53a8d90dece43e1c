#!/bin/sh
# Install what `voice-agent talk` and its virtual-device test need: PortAudio (for the
# sounddevice package), PulseAudio with its client tools, and the ALSA->PulseAudio plugin
# through which PortAudio reaches PulseAudio. Idempotent; called by the Makefile's system-deps.
set -eu
PACKAGES="libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins"
missing=""
for pkg in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing audio packages:$missing" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
