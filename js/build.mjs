// Bundles src/widget.js into one ESM file that anywidget loads (and exported HTML inlines), and
// src/host/page.js into the export host (attnwidget/widgets/export.py inlines it in saved pages
// and beside notebook outputs). `node build.mjs --watch` rebuilds both on every change (see
// CONTRIBUTING.md for a live notebook).
import * as esbuild from "esbuild";

const common = {
  bundle: true,
  minify: true,
  target: ["es2020"],
  // Hosts with require.js (classic notebook, some exports) would otherwise treat the bundle as AMD.
  define: { "define.amd": "false" },
};

const bundles = [
  { ...common, entryPoints: ["src/widget.js"], format: "esm", outfile: "../attnwidget/static/widget.js" },
  // A classic script, not a module: it sits in an inline <script> of a page or a notebook output.
  { ...common, entryPoints: ["src/host/page.js"], format: "iife", outfile: "../attnwidget/static/host.js" },
];

if (process.argv.includes("--watch")) {
  for (const options of bundles) {
    const context = await esbuild.context({ ...options, minify: false, sourcemap: "inline" });
    await context.watch();
  }
  console.log("watching src/ (Ctrl-C to stop)");
} else {
  await Promise.all(bundles.map((options) => esbuild.build(options)));
}
