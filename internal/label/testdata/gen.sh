#!/bin/sh
# Regenerates the golden input fixtures (a few KB each) with Debian ffmpeg.
# in.pdf and in.md are hand-written (see README.md). After changing them,
# run: go test ./internal/label -run TestGolden -update
set -eu
cd "$(dirname "$0")"
ff() { ffmpeg -v error -y "$@"; }
ff -f lavfi -i "testsrc=size=96x64:rate=10:duration=1" -f lavfi -i "sine=frequency=440:duration=1:sample_rate=8000" \
  -c:v libx264 -preset veryfast -crf 40 -pix_fmt yuv420p -c:a aac -b:a 16k -ac 1 -movflags +faststart -fflags +bitexact -map_metadata -1 in.mp4
ff -f lavfi -i "sine=frequency=440:duration=0.5:sample_rate=8000" -c:a aac -b:a 16k -fflags +bitexact in.m4a
ff -f lavfi -i "testsrc=size=64x48:rate=5:duration=1" -c:v mpeg4 -q:v 20 -f mov -fflags +bitexact in.mov
ff -f lavfi -i "sine=frequency=440:duration=0.5:sample_rate=8000" -c:a pcm_s16le -fflags +bitexact in.wav
ff -f lavfi -i "sine=frequency=440:duration=0.5:sample_rate=8000" -c:a libmp3lame -b:a 16k -fflags +bitexact in.mp3
ff -f lavfi -i "sine=frequency=440:duration=0.5:sample_rate=8000" -c:a flac -fflags +bitexact in.flac
ff -f lavfi -i "sine=frequency=440:duration=0.5:sample_rate=8000" -c:a libvorbis -q:a 0 -fflags +bitexact in.ogg
ff -f lavfi -i "sine=frequency=440:duration=0.5:sample_rate=8000" -c:a libopus -b:a 12k -fflags +bitexact in.opus
ff -f lavfi -i "testsrc=size=64x48" -frames:v 1 in.png
ff -f lavfi -i "testsrc=size=64x48" -frames:v 1 -q:v 8 in.jpg
ff -f lavfi -i "testsrc=size=64x48" -frames:v 1 -c:v libwebp -quality 30 in.webp
ff -f lavfi -i "testsrc=size=64x48" -frames:v 1 -c:v libwebp -lossless 1 in_lossless.webp
