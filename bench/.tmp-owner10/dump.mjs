import { build } from 'esbuild';
import { browserBuildOptions, APP_ENTRY } from '/work/wt/owner10/bench/lib/browser-bundle.mjs';
const r = await build({ ...browserBuildOptions(APP_ENTRY), minify: false, minifySyntax: true, minifyWhitespace: false });
process.stdout.write(r.outputFiles[0].text);
