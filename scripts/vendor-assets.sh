#!/usr/bin/env bash
# Refreshes the vendored front-end assets in static/vendor from their npm packages.
# Run by hand when upgrading; the app never loads assets from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_VERSION=5.3.9
CHARTJS_VERSION=4.6.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "bootstrap@$BOOTSTRAP_VERSION" "chart.js@$CHARTJS_VERSION" >/dev/null)
mkdir -p static/vendor/bootstrap static/vendor/chartjs
tar -xzf "$work"/bootstrap-*.tgz -C "$work" package/dist/css/bootstrap.min.css package/dist/css/bootstrap.min.css.map \
  package/dist/js/bootstrap.bundle.min.js package/dist/js/bootstrap.bundle.min.js.map package/LICENSE
cp "$work"/package/dist/css/bootstrap.min.css* "$work"/package/dist/js/bootstrap.bundle.min.js* static/vendor/bootstrap/
cp "$work"/package/LICENSE static/vendor/bootstrap/LICENSE
rm -rf "$work"/package
tar -xzf "$work"/chart.js-*.tgz -C "$work" package/dist/chart.umd.min.js package/LICENSE.md
cp "$work"/package/dist/chart.umd.min.js static/vendor/chartjs/
cp "$work"/package/LICENSE.md static/vendor/chartjs/LICENSE.md
echo "bootstrap $BOOTSTRAP_VERSION, chart.js $CHARTJS_VERSION" > static/vendor/VERSIONS
