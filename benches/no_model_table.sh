#!/bin/bash
# The no-model results table of README.md: `pcz compress FILE` (default level, no --model)
# against zstd -19 and xz -9e on every file of a data folder, with compress and decompress
# speed (wall clock, whole command) and a byte-exact round-trip check. Each PNG also gets a
# `--pixels` row (pixel-exact round trip; sizes against zstd and xz of the PNG file).
#
# usage: benches/no_model_table.sh PCZ_BINARY DATA_DIR OUT.tsv [LEVEL]
# LEVEL (1-9) is passed as `--level`; without it pcz uses its default level.
# The last line printed (stderr) is the aggregate over the files (not the --pixels rows):
# total bytes, compress and decompress seconds and MB/s, total pcz bytes; the targets of
# the no-model issue are read from it.
# Needs zstd, xz, bc, python3 and `convert` (PNG -> PPM). MNIST test images and the sklearn
# digits are gunzipped to IDX; each PNG is also measured as raw PGM (grey) or PPM (colour).
set -euo pipefail
bin=$1; data=$2; out=$3; level=(${4:+--level "$4"})
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gunzip -c "$data/mnist/t10k-images-idx3-ubyte.gz" > "$work/t10k-images-idx3-ubyte"
gunzip -c "$data/sklearn-digits/digits-images-idx3-ubyte.gz" > "$work/digits-images-idx3-ubyte"
for png in "$data"/images/*.png; do
  convert "$png" ppm:- > "$work/$(basename "$png" .png).ppm"
done
python3 - "$work" <<'PY'
import glob, os, re, sys
for f in glob.glob(sys.argv[1] + '/*.ppm'):
    b = open(f, 'rb').read()
    m = re.match(rb'P6\s+(\d+)\s+(\d+)\s+(\d+)\s', b)
    w, h, mx = map(int, m.groups()); px = b[m.end():]
    if px[0::3] == px[1::3] == px[2::3]:  # grey stored as RGB: keep one channel
        open(f[:-4] + '.pgm', 'wb').write(b'P5\n%d %d\n%d\n' % (w, h, mx) + px[0::3])
        os.remove(f)
PY
files="$(ls "$data"/text/* "$data"/dna/* "$data"/audio/*.wav "$data"/kt/* "$data"/images/*.png \
  "$work"/*.p?m "$work"/*-ubyte)"
echo -e "file\tbytes\tpcz\tzstd19\txz9e\tc_MBps\td_MBps\tc_s\td_s" > "$out"
now() { date +%s.%N; }
for f in $files; do
  n=$(stat -c %s "$f")
  z=$(zstd -19 -q -c "$f" | wc -c); x=$(xz -9e -c "$f" | wc -c)
  t0=$(now); "$bin" compress -q "${level[@]}" "$f" -c > "$work/m.pcz"; t1=$(now)
  "$bin" decompress -q "$work/m.pcz" -c > "$work/m.out"; t2=$(now)
  cmp -s "$work/m.out" "$f" || { echo "round trip failed: $f" >&2; exit 1; }
  p=$(stat -c %s "$work/m.pcz")
  c=$(echo "$n / ($t1 - $t0) / 1000000" | bc -l); d=$(echo "$n / ($t2 - $t1) / 1000000" | bc -l)
  printf "%s\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.3f\t%.3f\n" "$(basename "$f")" "$n" "$p" "$z" "$x" "$c" "$d" \
    "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t2 - $t1" | bc -l)" >> "$out"
  case "$f" in *.png)
    # --pixels: the pixels are coded and come back as a PNG with the same pixels.
    t0=$(now); "$bin" compress -q "${level[@]}" --pixels "$f" -c > "$work/m.pcz"; t1=$(now)
    "$bin" decompress -q "$work/m.pcz" -c > "$work/m.png"; t2=$(now)
    cmp -s <(convert "$work/m.png" ppm:-) <(convert "$f" ppm:-) \
      || { echo "pixel round trip failed: $f" >&2; exit 1; }
    p=$(stat -c %s "$work/m.pcz")
    c=$(echo "$n / ($t1 - $t0) / 1000000" | bc -l); d=$(echo "$n / ($t2 - $t1) / 1000000" | bc -l)
    printf "%s\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.3f\t%.3f\n" "$(basename "$f") --pixels" "$n" "$p" "$z" "$x" \
      "$c" "$d" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t2 - $t1" | bc -l)" >> "$out"
  esac
done
awk -F'\t' 'NR > 1 && $1 !~ /--pixels$/ { n++; b += $2; p += $3; c += $8; d += $9 }
  END { printf "# %d files, %.1f MB: compress %.1f s = %.2f MB/s, decompress %.1f s = %.2f MB/s, pcz %d bytes\n",
        n, b / 1e6, c, b / c / 1e6, d, b / d / 1e6, p }' "$out" >&2
