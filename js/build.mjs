// Bundles src/widget.js into one ESM file that anywidget loads (and exported HTML inlines).
// `node build.mjs --watch` rebuilds on every change (see CONTRIBUTING.md for a live notebook).
import * as esbuild from "esbuild";

const options = {
  entryPoints: ["src/widget.js"],
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  // Hosts with require.js (classic notebook, some exports) would otherwise treat the bundle as AMD.
  define: { "define.amd": "false" },
  outfile: "../attnwidget/static/widget.js",
};

if (process.argv.includes("--watch")) {
  const context = await esbuild.context({ ...options, minify: false, sourcemap: "inline" });
  await context.watch();
  console.log("watching src/ (Ctrl-C to stop)");
} else {
  await esbuild.build(options);
}
