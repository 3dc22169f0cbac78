#!/usr/bin/env bash
# Installs what Convscope needs, builds it and opens the app on the bundled demo: a small CNN trained on
# Fashion-MNIST, with the Fashion-MNIST test set (Debian's dataset-fashion-mnist) as its dataset.
# Without a display it runs the headless tour instead (CLI on the demo; pictures land in demo-output/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/setup-debian.sh
cmake --preset release
cmake --build --preset release --target convscope

bin=build/app/convscope
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$bin" "$@"
fi
echo "No display: running the headless tour on the demo instead of the window."
model=resources/demo/fashion_cnn.pt
data=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
out=demo-output
mkdir -p "$out"
"$bin" info "$model"
echo
"$bin" predict "$model" "$data#0" "$data#1" -k 3
echo
"$bin" evaluate "$model" "$data"
"$bin" filters "$model" --layer "conv 1" -o "$out/conv1-filters.png"
"$bin" filters "$model" --layer "conv 2" -o "$out/conv2-filters.svg"
"$bin" activations "$model" "$data#0" --layer features.relu2 -o "$out/relu2-ankle-boot.png"
"$bin" activations "$model" "$data#0" --layer features.relu2 -o "$out/relu2-ankle-boot.npy"
echo
"$bin" scan "$model" "$data" --project "$out/project" --csv "$out/top9.csv"
"$bin" top "$out/project" --layer "conv 2" -o "$out/conv2-top9-poster.png" --width 1600
"$bin" top "$out/project" --layer "conv 4" --units 0-3 -o "$out/conv4-unit.png" --width 800
echo
"$bin" top "$out/project" --layer "conv 3" --with-reconstructions -o "$out/conv3-deconvnet-poster.png" --width 2000
"$bin" top "$out/project" --layer "conv 3" --units 5 --with-reconstructions --method guided \
  -o "$out/conv3-unit5-guided.png" --width 900
"$bin" reconstruct "$model" "$data#0" --layer "conv 3" --unit 5 --crop -o "$out/conv3-unit5-deconvnet.png" --width 400
"$bin" saliency "$model" "$data#0" --top 5 -o "$out/gradcam-top5.png" --width 1000
"$bin" saliency "$model" "$data#0" --method guided-gradcam -o "$out/guided-gradcam.png" --width 400
"$bin" sanity "$model" "$data#0" -o "$out/sanity-check.png" --csv "$out/sanity-check.csv" --width 1600
echo
"$bin" synthesize "$model" --layer "conv 2" --units 0-15 --steps 128 --project "$out/project" \
  -o "$out/conv2-synthesised.png"
"$bin" evolution resources/demo/checkpoints --dataset "$data" --layer "conv 3" --strongest 6 \
  --project "$out/project" -o "$out/conv3-evolution.png" --chart "$out/evolution-chart.png" --quiet
echo
"$bin" index "$out/project" --layer "fc 1"
"$bin" index "$out/project" --layer features --descriptor mac
"$bin" search "$out/project" "$data#0" -k 8 --why
"$bin" search "$out/project" "$data#0" -k 8 --index classifier.fc1-fc-128
"$bin" eval-retrieval "$out/project" --csv "$out/which-layer.csv"
echo
"$bin" map "$out/project" --layer "fc 2" --coords "$out/map.csv" --npy "$out/map.npy" -o "$out/map-poster.png" \
  --projector "$out/projector"
echo
echo "Pictures and data are in $out/. Try: $bin --help"
