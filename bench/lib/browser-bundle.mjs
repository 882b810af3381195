// @ts-check
/**
 * The bundle a browser app ships for syncline: esbuild, minified and tree-shaken, of an app
 * entry that uses the client, the REST transport and every React hook (React itself is left
 * out: the app has it anyway). Reads the packages' built dist/, as an app installed from npm.
 */

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a typical app imports. */
export const APP_ENTRY = `
import { createSyncClient, createSessionSource, lww, manual } from '@syncline/sync-core';
import { restTransport } from '@syncline/adapter-rest';
import {
  SyncProvider, useSyncClient, useSyncStatus, usePendingCount, useRecord, useCollection,
  useMutations, useRecordStatus, useConflicts, useDeadLetters,
} from '@syncline/react';
export function boot(baseUrl, getToken) {
  const session = createSessionSource();
  const client = createSyncClient({
    transport: restTransport({ baseUrl, getToken, session }),
    collections: { todos: { conflict: lww() }, notes: { conflict: manual() } },
  });
  return { client, session };
}
export {
  SyncProvider, useSyncClient, useSyncStatus, usePendingCount, useRecord, useCollection,
  useMutations, useRecordStatus, useConflicts, useDeadLetters,
};
`;

/**
 * What a typical app imports of the engine and its transport alone (issue 10's figure): the
 * app entry above without the React bindings.
 */
export const CORE_REST_ENTRY = `
import { createSyncClient, createSessionSource, lww, manual } from '@syncline/sync-core';
import { restTransport } from '@syncline/adapter-rest';
export function boot(baseUrl, getToken) {
  const session = createSessionSource();
  return createSyncClient({
    transport: restTransport({ baseUrl, getToken, session }),
    collections: { todos: { conflict: lww() }, notes: { conflict: manual() } },
  });
}
`;

/**
 * The esbuild options of a browser app's bundle of `entry` (source text): minified, tree-shaken,
 * React left out. `scripts/bundle-breakdown.mjs` adds its source aliases and a metafile.
 * @param {string} entry
 * @returns {import('esbuild').BuildOptions & { write: false }}
 */
export function browserBuildOptions(entry) {
  return {
    stdin: { contents: entry, resolveDir: root, loader: 'js', sourcefile: 'app.js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    treeShaking: true,
    external: ['react', 'react-dom'],
    // No tsconfig: the repository's `paths` point `@syncline/sync-core` at its sources, which an
    // app installed from npm does not see (it gets dist/, through the package's exports map).
    tsconfigRaw: {},
    logLevel: 'silent',
  };
}

/**
 * Bundles `entry` (source text) and returns its minified and min+gzip sizes in bytes, and the
 * minified text (to look for what must not ship).
 * @param {string} [entry]
 */
export async function measureBundle(entry = APP_ENTRY) {
  const result = await build(browserBuildOptions(entry));
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return {
    minified: code.byteLength,
    gzipped: gzipSync(code, { level: 9 }).byteLength,
    text: new TextDecoder().decode(code),
  };
}
