// Bundles src/widget.js into one ESM file that anywidget loads (and exported HTML inlines).
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: ["src/widget.js"],
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  // Hosts with require.js (classic notebook, some exports) would otherwise treat the bundle as AMD.
  define: { "define.amd": "false" },
  outfile: "../attnwidget/static/widget.js",
});
